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

    /// <summary>The VampPrior on the top layer: p(z2) = (1/K) sum_k N(z2; m_k, s_k^2), (m_k, log s_k^2) the top posterior
    /// q(z2 | z1 = mu1(u_k)) at the pseudo-inputs, computed here by hand in float64; and p(z1, z2) still integrates to one.</summary>
    [Fact]
    public void AVampPriorOnTheTopLayerIsTheMixtureOfTheTopPosteriorsAtThePseudoInputs()
    {
        manual_seed(12);
        using var model = Autoencoder.Create(new ModelConfig("tiny2l", ModelKind.Vae, 2, [8])
            { Image = new(1, 1, 6), TopLatentDim = 1, TopHiddenDims = [4], Prior = "vamp", PriorComponents = 3 });
        model.eval();
        using var noGrad = no_grad();
        var prior = Assert.IsType<LatentLab.Models.Priors.TwoLevelPrior>(model.Prior);
        var vamp = Assert.IsType<LatentLab.Models.Priors.VampPrior>(prior.Top);
        var family = (TwoLevelFamily)model.PosteriorFamily!;
        using var u = vamp.PseudoInputs();
        var (m, v) = family.Upper(((TwoLevelPosterior)model.Encode(u)).Lower.Mu);       // [3, 1] each
        double[] means = m.to(ScalarType.Float64).data<double>().ToArray(), logVars = v.to(ScalarType.Float64).data<double>().ToArray();
        output.WriteLine($"components: means {string.Join(", ", means.Select(a => a.ToString("F3")))}, log-variances {string.Join(", ", logVars.Select(a => a.ToString("F3")))}");
        foreach (double z2 in new[] { -2.5, -0.3, 0.0, 0.7, 3.1 })
        {
            double density = means.Select((mean, k) => Math.Exp(-0.5 * ((z2 - mean) * (z2 - mean) / Math.Exp(logVars[k]) + logVars[k] + Math.Log(2 * Math.PI)))).Average();
            using var z = tensor(new float[] { (float)z2 }).unsqueeze(0);
            double ours = prior.Top.LogDensity(z).item<float>();
            Assert.True(Math.Abs(ours - Math.Log(density)) < 1e-5, $"log p(z2 = {z2}): {ours} against {Math.Log(density)}");
        }
        double integral = Integral(z => prior.LogDensity(z));
        output.WriteLine($"prior: {integral:F6}");
        Assert.InRange(integral, 0.999, 1.001);
        using var rng = new Generator(4);
        var draws = prior.Sample(20_000, rng);
        // The draws' z2 have the mixture's mean: within 5 standard errors of the mean of 20,000 draws.
        double mixtureMean = means.Average(), sd = Math.Sqrt(means.Select((mean, k) => Math.Exp(logVars[k]) + mean * mean).Average() - mixtureMean * mixtureMean);
        double drawn = draws.select(1, 1).mean().item<float>();
        Assert.True(Math.Abs(drawn - mixtureMean) < 5 * sd / Math.Sqrt(20_000), $"the draws' mean {drawn} against the mixture's {mixtureMean}");
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

    /// <summary>Trains <paramref name="config"/> for two epochs on the MNIST slice, checks that the test loss fell, and
    /// loads the run folder back: the trainer (its model) and the loaded model, both in eval mode.</summary>
    static (LatentLab.Training.Trainer Trainer, Autoencoder Loaded) TrainedAndLoaded(ModelConfig config, LatentLab.Data.Dataset data, TempDir dir)
    {
        var trainer = new LatentLab.Training.Trainer(config, new LatentLab.Training.TrainingConfig(Epochs: 2, BatchSize: 64, Seed: 1),
            data, new LatentLab.Storage.RunFolder(dir.Path), tensorBoard: false);
        trainer.Train(false, null, CancellationToken.None);
        var history = LatentLab.Storage.History.Read(new LatentLab.Storage.RunFolder(dir.Path).HistoryPath);
        Assert.True(history[1].TestLoss < history[0].TestLoss, $"test loss {history[0].TestLoss} then {history[1].TestLoss}");
        var loaded = new LatentLab.Storage.RunFolder(dir.Path).LoadModel();
        loaded.eval();
        trainer.Model.eval();
        return (trainer, loaded);
    }

    [Fact]
    public void ATwoLevelVaeTrainsAndLoads()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        var (trainer, loaded) = TrainedAndLoaded(ModelRegistry.Get("vae_2l"), data, dir);
        using var _ = trainer;
        using var __ = loaded;
        using var noGrad = no_grad();
        var x = data.TestImages.narrow(0, 0, 10);
        Assert.True((loaded.Encode(x).Mean - trainer.Model.Encode(x).Mean).abs().max().item<float>() == 0, "the loaded model's code differs");
        Assert.Equal(50, loaded.Config.TopLatentDim);
    }

    /// <summary>The two-level VAE with a VampPrior on z2, trained on the IWAE objective (k = 5): the bound rises, the
    /// pseudo-inputs save and load with the weights.</summary>
    [Fact]
    public void ATwoLevelVaeWithAVampPriorTrainsOnTheImportanceWeightedBoundAndLoads()
    {
        var config = ModelRegistry.Get("vae_2l").WithOverrides(prior: "vamp", priorComponents: 20, iwaeSamples: 5);
        Assert.Equal("vae_2l-iwae5-vamp20", config.Name);
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        var (trainer, loaded) = TrainedAndLoaded(config, data, dir);
        using var _ = trainer;
        using var __ = loaded;
        using var noGrad = no_grad();
        using var rng = new Generator(5);
        var z = trainer.Model.Prior!.Sample(100, rng);
        Assert.True((loaded.Prior!.LogDensity(z) - trainer.Model.Prior.LogDensity(z)).abs().max().item<float>() == 0, "the loaded prior's density differs");
        Assert.Contains("VampPrior", loaded.Prior.Description);
    }
}
