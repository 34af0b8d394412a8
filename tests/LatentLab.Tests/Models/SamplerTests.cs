using LatentLab.Models.Samplers;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

public class SamplerTests
{
    /// <summary>An AE trained and evaluated by the CLI leaves sampler.safetensors; the embedding API samples from it,
    /// and so do the figures (they load the run the same way): all three are the Gaussian of the training codes.</summary>
    [Fact]
    public async Task TrainedModelSamplesFromTheSamplerTheFiguresUse()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync("train", "--model", "ae_2d", "--epochs", "2", "--iwae-k", "0",
            "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path, "--no-tensorboard");
        Assert.True(exit == 0, error);
        var run = new LatentLab.Training.RunFolder(dir["mnist/ae_2d"]);
        Assert.True(File.Exists(run.SamplerPath), "train's evaluation writes the fitted sampler");

        // What the figures sample from: the run loaded as visualize and compare load it.
        using var loaded = run.LoadModel();
        var sampler = Assert.IsType<GaussianSampler>(loaded.Prior);
        // It is the maximum-likelihood Gaussian of the training codes, fitted afresh here.
        using var data = Fixtures.MnistSlice();
        using var fresh = GaussianSampler.Fit(LatentLab.Evaluation.Evaluator.EncodeAll(loaded, data.TrainImages));
        Assert.True(sampler.Mean.allclose(fresh.Mean, rtol: 1e-6, atol: 1e-9));
        Assert.True(sampler.Covariance.allclose(fresh.Covariance, rtol: 1e-6, atol: 1e-9));

        // The embedding API's codes have that mean and covariance (20,000 draws: the mean's error is under 1 % of a
        // standard deviation, the covariance's under 2 %).
        using var model = LatentLab.TrainedModel.Load(run.Root);
        var codes = model.SampleCodes(20_000, seed: 3);
        using var z = tensor(codes.SelectMany(c => c).Select(v => (double)v).ToArray(), [codes.Length, 2]);
        var std = sampler.Covariance.diagonal().sqrt();
        Assert.True(((z.mean([0]) - sampler.Mean).abs() / std).max().item<double>() < 0.03);
        var centred = z - z.mean([0]);
        var covariance = centred.t().mm(centred) / codes.Length;
        var scale = std.outer(std);
        Assert.True(((covariance - sampler.Covariance).abs() / scale).max().item<double>() < 0.05);
        Assert.Equal(model.Decode(model.SampleCodes(5, seed: 3)), model.Sample(5, seed: 3));
    }
}
