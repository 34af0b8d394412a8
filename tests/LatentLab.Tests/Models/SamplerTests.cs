using LatentLab.Models.Samplers;
using static TorchSharp.torch;
using LatentLab.Storage;

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
        var run = new LatentLab.Storage.RunFolder(dir["mnist/ae_2d"]);
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

public class GaussianMixtureSamplerTests
{
    /// <summary>Three well-separated clusters in 2-d, 3,000 points each.</summary>
    static Tensor Clusters(Generator rng)
    {
        var centres = tensor(new[,] { { -4.0, 0.0 }, { 3.0, 3.0 }, { 2.0, -4.0 } });
        var spread = tensor(new[,] { { 1.0, 0.3 }, { 0.3, 0.5 } });
        return cat(Enumerable.Range(0, 3).Select(k => randn(3000, 2, dtype: ScalarType.Float64, generator: rng).mm(spread) + centres[k]).ToList(), 0);
    }

    [Fact]
    public void EmRaisesTheTrainingCodesLikelihoodAtEveryIteration()
    {
        using var rng = new Generator(1);
        using var points = Clusters(rng);
        using var gmm = GaussianMixtureSampler.Fit(points, 3, seed: 0);
        var history = gmm.LogLikelihoods;
        Assert.True(history.Count > 2, "EM ran more than one iteration");
        // EM never lowers the likelihood; 1e-12 relative leaves room for float64 rounding of the mean.
        for (int i = 1; i < history.Count; i++)
            Assert.True(history[i] >= history[i - 1] - 1e-12 * Math.Abs(history[i - 1]), $"iteration {i}: {history[i]} after {history[i - 1]}");
        // And it finds the three clusters: the means are the centres, the weights a third each.
        var means = gmm.Means.data<double>().ToArray();
        foreach (var (x, y) in new[] { (-4.0, 0.0), (3.0, 3.0), (2.0, -4.0) })
            Assert.Contains(Enumerable.Range(0, 3), k => Math.Abs(means[2 * k] - x) < 0.1 && Math.Abs(means[2 * k + 1] - y) < 0.1);
        Assert.All(gmm.Weights.data<double>().ToArray(), w => Assert.InRange(w, 0.32, 0.35));
        // The same seed fits the same mixture.
        using var again = GaussianMixtureSampler.Fit(points, 3, seed: 0);
        Assert.True(again.Means.eq(gmm.Means).all().item<bool>());
    }

    /// <summary>32-d codes, enough of them that EM and the density take several blocks of rows: EM still never lowers
    /// the likelihood, and the log-density equals the closed form written point by point (inverse and log-determinant of
    /// each covariance, the log-sum-exp over components) at points spread over more than one block.</summary>
    [Fact]
    public void InThirtyTwoDimensionsAcrossBlocksEmClimbsAndTheDensityIsTheClosedForm()
    {
        using var scope = NewDisposeScope();
        using var rng = new Generator(5);
        const int d = 32, k = 4;
        var centres = randn(k, d, dtype: ScalarType.Float64, generator: rng) * 3;
        var points = cat(Enumerable.Range(0, k).Select(c => randn(1500, d, dtype: ScalarType.Float64, generator: rng) + centres[c]).ToList(), 0);
        using var gmm = GaussianMixtureSampler.Fit(points, k, seed: 0);     // 6,000 points: blocks of 2,560 rows at K d = 128
        var history = gmm.LogLikelihoods;
        Assert.True(history.Count > 2, "EM ran more than one iteration");
        for (int i = 1; i < history.Count; i++)
            Assert.True(history[i] >= history[i - 1] - 1e-12 * Math.Abs(history[i - 1]), $"iteration {i}: {history[i]} after {history[i - 1]}");

        var z = points.to(ScalarType.Float32);
        var ours = gmm.LogDensity(z).to(ScalarType.Float64).data<double>().ToArray();
        var w = gmm.Weights.data<double>().ToArray();
        var inverses = Enumerable.Range(0, k).Select(c => linalg.inv(gmm.Covariances[c])).ToArray();
        var logDets = Enumerable.Range(0, k).Select(c => linalg.slogdet(gmm.Covariances[c]).Item2.item<double>()).ToArray();
        var zz = z.to(ScalarType.Float64);
        for (int i = 0; i < 6000; i += 997)
        {
            var terms = Enumerable.Range(0, k).Select(c =>
            {
                var diff = zz[i] - gmm.Means[c];
                double maha = diff.dot(inverses[c].mv(diff)).item<double>();
                return Math.Log(w[c]) - 0.5 * (maha + logDets[c] + d * Math.Log(2 * Math.PI));
            }).ToArray();
            double peak = terms.Max(), expected = peak + Math.Log(terms.Sum(t => Math.Exp(t - peak)));
            // LogDensity returns float32: its rounding (2^-24 relative) of values near -50 is ~3e-6; 1e-5 allows three times.
            Assert.True(Math.Abs(ours[i] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"point {i}: {ours[i]} against {expected}");
        }
    }

    [Fact]
    public void ItsDensityIntegratesToOneAndItsSamplesFollowIt()
    {
        using var rng = new Generator(2);
        using var points = Clusters(rng);
        using var gmm = GaussianMixtureSampler.Fit(points, 4, seed: 3);
        using var scope = NewDisposeScope();
        var u = linspace(-12, 12, 1201, dtype: ScalarType.Float64);
        var grid = meshgrid([u, u], indexing: "ij");
        var z = stack([grid[0].flatten(), grid[1].flatten()], 1);
        var density = gmm.LogDensity(z).to(ScalarType.Float64).exp();
        double h = 24.0 / 1200;
        Assert.InRange((density.sum() * h * h).item<double>(), 1 - 1e-4, 1 + 1e-4);
        // Samples: their mean is the mixture's mean (sum of weights times means), within 0.05 at 100,000 draws.
        var samples = gmm.Sample(100_000, rng).to(ScalarType.Float64);
        var mixtureMean = (gmm.Weights.unsqueeze(1) * gmm.Means).sum([0]);
        Assert.True(samples.mean([0]).allclose(mixtureMean, atol: 0.05));
    }

    [Fact]
    public void ASavedMixtureLoadsAsTheSameDensity()
    {
        using var dir = new TempDir();
        using var rng = new Generator(4);
        using var points = Clusters(rng);
        using var gmm = GaussianMixtureSampler.Fit(points, 3, seed: 0);
        SamplerFile.Save(gmm, dir["sampler.safetensors"]);
        using var loaded = Assert.IsType<GaussianMixtureSampler>(SamplerFile.Load(dir["sampler.safetensors"], 2));
        using var z = randn(50, 2);
        Assert.True(loaded.LogDensity(z).allclose(gmm.LogDensity(z), rtol: 1e-6));
    }

    [Fact]
    public async Task AnAeWithTheMixtureSamplerMeasuresEverySampler()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync("train", "--model", "ae_2d", "--sampler", "gmm", "--sampler-components", "3", "--epochs", "1",
            "--iwae-k", "0", "--no-tensorboard", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
        Assert.True(exit == 0, error);
        var run = new LatentLab.Storage.RunFolder(dir["mnist/ae_2d-gmm3"]);
        using var model = run.LoadModel();
        Assert.IsType<GaussianMixtureSampler>(model.Prior);
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(run.MetricsPath));
        var bySampler = metrics.RootElement.GetProperty("sample_frechet_by_sampler");
        Assert.True(bySampler.GetProperty("gaussian").GetDouble() > 0);
        Assert.Equal(metrics.RootElement.GetProperty("sample_frechet").GetDouble(), bySampler.GetProperty("gmm3").GetDouble(), 1e-9);
    }
}
