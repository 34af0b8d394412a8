using LatentLab.Models;
using LatentLab.Models.Posteriors;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary>The two-level VAE (Burda et al. 2015): its prior and posterior densities against brute-force integrals, its
/// bound with k = 1 against its ELBO on the same noise.</summary>
public class TwoLevelTests(ITestOutputHelper output)
{
    /// <summary>z1 and z2 of one value each, so both densities can be integrated over the plane.</summary>
    static Autoencoder Tiny()
    {
        manual_seed(11);
        var model = Autoencoder.Create(new ModelConfig("tiny2l", ModelKind.Vae, 2, [8]) { Image = new(1, 1, 6), TopLatentDim = 1, TopHiddenDims = [4] });
        // Larger weights than a fresh model's in the two layers' networks, so p(z1|z2) and q(z2|z1) bend.
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters()) if (name.StartsWith("prior.") || name.StartsWith("posterior.")) p.mul_(1.5);
        return model;
    }

    /// <summary>The integral of exp(logDensity) over [-16, 16]^2 by the rectangle rule on a 1,601-point grid (spacing 0.02).</summary>
    static double Integral(Func<Tensor, Tensor> logDensity)
    {
        using var scope = NewDisposeScope();
        const int points = 1601;
        const double half = 16, h = 2 * half / (points - 1);
        var u = linspace(-half, half, points, dtype: ScalarType.Float64);
        var grid = meshgrid([u, u], indexing: "ij");
        var z = stack([grid[0].flatten(), grid[1].flatten()], 1).to(ScalarType.Float32);      // [P, 2]
        return (logDensity(z).to(ScalarType.Float64).logsumexp(0) + 2 * Math.Log(h)).exp().item<double>();
    }

    [Fact]
    public void ThePriorAndThePosteriorIntegrateToOne()
    {
        using var model = Tiny();
        model.eval();
        using var noGrad = no_grad();
        double prior = Integral(z => model.Prior!.LogDensity(z));
        output.WriteLine($"prior: {prior:F6}");
        Assert.InRange(prior, 0.999, 1.001);
        using var x = tensor(new float[] { 1, 0, 1, 1, 0, 0 }, [1, 1, 1, 6]);
        var q = model.Encode(x);
        var lower = ((TwoLevelPosterior)q).Lower;
        using var z1 = linspace(-4, 4, 9).unsqueeze(1);
        var (mu2, logVar2) = ((LatentLab.Models.Posteriors.TwoLevelFamily)model.PosteriorFamily!).Upper(z1);
        output.WriteLine($"q(z1|x): mean {lower.Mu.item<float>()}, log-variance {lower.LogVar.item<float>()}; q(z2|z1) for z1 = -4..4: means {string.Join(", ", mu2.data<float>().ToArray().Select(v => v.ToString("F2")))}, log-variances {string.Join(", ", logVar2.data<float>().ToArray().Select(v => v.ToString("F2")))}");
        double posterior = Integral(z => q.LogDensity(z.unsqueeze(1)).select(1, 0));
        output.WriteLine($"posterior: {posterior:F6}");
        Assert.InRange(posterior, 0.999, 1.001);
    }

    [Fact]
    public void TheDensitiesAtDrawsAreTheDrawsOwnAndTheDecoderReadsZ1()
    {
        using var model = Autoencoder.Create(ModelRegistry.Get("vae_2l"));
        model.eval();
        using var noGrad = no_grad();
        using var data = Fixtures.MnistSlice();
        var x = data.TestImages.narrow(0, 0, 8);
        using var rng = new Generator(3);
        var q = model.Encode(x);
        Assert.IsType<TwoLevelPosterior>(q);
        var (z, logQ) = q.Sample(7, rng);
        Assert.Equal(new long[] { 7, 8, 150 }, z.shape);
        Assert.True((q.LogDensity(z) - logQ).abs().max().item<float>() < 1e-3, "log q at the draws differs from the draws' own");
        // The top half of the code changes nothing the decoder gives.
        var moved = z.clone();
        moved.narrow(-1, 100, 50).add_(3.0);
        Assert.True((model.Decode(z.view(-1, 150)) - model.Decode(moved.view(-1, 150))).abs().max().item<float>() == 0, "the decoder reads z2");
        var samples = model.SamplePrior(5, rng);
        Assert.Equal(new long[] { 5, 150 }, samples.shape);
    }

    [Fact]
    public void TheBoundWithOneSampleIsTheElboOnTheSameNoise()
    {
        manual_seed(2);
        using var model = Autoencoder.Create(ModelRegistry.Get("vae_2l"));
        using var data = Fixtures.MnistSlice();
        var x = data.TestImages.narrow(0, 0, 16);
        using var noGrad = no_grad();
        using (var rng = new Generator(9))
        using (var again = new Generator(9))
        {
            double elbo = -model.Loss(x, rng).Total.item<float>();
            double bound = Objectives.ImportanceWeightedBound(model.LogWeights(model.Encode(x), x, 1, again)).mean().item<float>();
            output.WriteLine($"ELBO {elbo:F5}, k = 1 bound {bound:F5}");
            // The same draws and the same terms summed in another order: float32 rounding of sums of ~550 nats.
            Assert.True(Math.Abs(elbo - bound) < 1e-3, $"ELBO {elbo} against the k = 1 bound {bound}");
        }
    }

    [Fact]
    public void ATwoLevelVaeTrainsAndLoads()
    {
        var config = ModelRegistry.Get("vae_2l");
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        using var trainer = new LatentLab.Training.Trainer(config, new LatentLab.Training.TrainingConfig(Epochs: 2, BatchSize: 64, Seed: 1),
            data, new LatentLab.Storage.RunFolder(dir.Path), tensorBoard: false);
        trainer.Train(false, null, CancellationToken.None);
        var history = LatentLab.Storage.History.Read(new LatentLab.Storage.RunFolder(dir.Path).HistoryPath);
        Assert.True(history[1].TestLoss < history[0].TestLoss, $"test loss {history[0].TestLoss} then {history[1].TestLoss}");
        using var loaded = new LatentLab.Storage.RunFolder(dir.Path).LoadModel();
        loaded.eval();
        trainer.Model.eval();
        using var noGrad = no_grad();
        var x = data.TestImages.narrow(0, 0, 10);
        Assert.True((loaded.Encode(x).Mean - trainer.Model.Encode(x).Mean).abs().max().item<float>() == 0, "the loaded model's code differs");
        Assert.Equal(50, loaded.Config.TopLatentDim);
    }
}
