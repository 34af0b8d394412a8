using LatentLab.Models;
using LatentLab.Models.Vae;
using LatentLab.Training;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Tests.Models;

/// <summary>Training on the importance-weighted bound (Burda et al. 2015): k = 1 is the ELBO, the bound rises with k, a
/// model trained on it learns, and the command line names and checks the choice.</summary>
public class IwaeObjectiveTests
{
    [Fact]
    public void WithOneSampleTheObjectiveIsTheElbo()
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(3);
        using var model = new VariationalAutoencoder(ModelRegistry.Get("vae_2d"));
        var x = data.TestImages.narrow(0, 0, 50);
        using var a = new Generator(7);
        using var b = new Generator(7);
        double elbo = model.Loss(x, a).Total.item<float>();
        double iwae1 = model.ImportanceWeightedLoss(x, 1, b).Total.item<float>();
        Assert.Equal(elbo, iwae1, 2);   // the same noise; float32 sums in another order
    }

    [Fact]
    public void TheTrainedBoundIsAtLeastTheElboAndRisesWithK()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        var config = ModelRegistry.Get("vae_2d").WithOverrides(iwaeSamples: 5);
        Assert.Equal("vae_2d-iwae5", config.Name);
        using var trainer = new Trainer(config, new TrainingConfig(Epochs: 3, BatchSize: 64), data, new RunFolder(dir.Path));
        Assert.Equal(TrainingOutcome.Completed, trainer.Train(resume: false, null, CancellationToken.None));
        Assert.True(trainer.History[^1].TestLoss < trainer.History[0].TestLoss, "the IWAE loss did not fall");

        var vae = (VariationalAutoencoder)trainer.Model;
        vae.eval();
        using var noGrad = no_grad();
        double Bound(int k)
        {
            // Averaged over repeats so the comparison is between bounds, not between single noisy draws.
            using var rng = new Generator(11);
            return Enumerable.Range(0, 8).Average(_ => -vae.ImportanceWeightedLoss(data.TestImages, k, rng).Total.item<float>());
        }
        double elbo = Bound(1), k5 = Bound(5), k50 = Bound(50);
        Assert.True(k5 >= elbo, $"k = 5 bound {k5} below the ELBO {elbo}");
        Assert.True(k50 > k5, $"k = 50 bound {k50} not above the k = 5 bound {k5}");
    }

    [Theory]
    [InlineData(new[] { "--model", "vae_2d", "--objective", "iwae", "--beta", "2" }, "takes no --beta")]
    [InlineData(new[] { "--model", "ae_2d", "--objective", "iwae" }, "needs a VAE")]
    [InlineData(new[] { "--model", "vae_2d", "--k", "5" }, "--k belongs to --objective iwae")]
    [InlineData(new[] { "--model", "vae_2d", "--objective", "iwea" }, "--objective must be elbo, iwae or iwae-dreg")]
    [InlineData(new[] { "--model", "vae_2d", "--objective", "iwae-dreg", "--k", "1" }, "iwae-dreg needs k >= 2")]
    [InlineData(new[] { "--model", "vae_2d", "--objective", "iwae", "--k", "0" }, "--k must be between 1 and 5000")]
    public async Task BadObjectiveChoicesAreRefused(string[] args, string expected)
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["train", .. args, "--epochs", "1", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task TrainWithTheIwaeObjectiveWritesItsOwnRunFolder()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["train", "--model", "vae_2d", "--objective", "iwae", "--k", "3", "--epochs", "1",
            "--iwae-k", "0", "--no-tensorboard", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        var record = new RunFolder(dir["mnist/vae_2d-iwae3"]).ReadRecord();
        Assert.Equal(3, record.Model.IwaeSamples);
        // An ELBO run's config.json does not mention the objective at all: earlier runs read and compare as before.
        Assert.Equal(0, (await LatentCommand.RunAsync(["train", "--model", "vae_2d", "--epochs", "1", "--iwae-k", "0", "--no-tensorboard",
            "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path])).Exit);
        Assert.DoesNotContain("iwae_samples", File.ReadAllText(dir["mnist/vae_2d/config.json"]));
        Assert.DoesNotContain("iwae_gradient", File.ReadAllText(dir["mnist/vae_2d-iwae3/config.json"]));
    }

    [Fact]
    public async Task TheDoublyReparameterizedGradientTrainsIntoItsOwnRunFolder()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["train", "--model", "vae_2d", "--objective", "iwae-dreg", "--k", "3", "--epochs", "2",
            "--kl-warmup", "1", "--iwae-k", "0", "--no-tensorboard", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        var folder = new RunFolder(dir["mnist/vae_2d-iwae3-dreg"]);
        var record = folder.ReadRecord();
        Assert.Equal(3, record.Model.IwaeSamples);
        Assert.True(record.Model.Dreg);
        Assert.Contains("\"iwae_gradient\": \"dreg\"", File.ReadAllText(folder.ConfigPath));
        var history = File.ReadAllLines(Path.Combine(folder.Root, "history.csv"));
        Assert.Equal(3, history.Length);
        Assert.True(double.Parse(history[2].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture) <
                    double.Parse(history[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture), "the test loss did not fall");
    }

    [Fact]
    public void AWarmUpWeighsThePriorAndPosteriorTermsInsideEachWeight()
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(3);
        using var model = new VariationalAutoencoder(ModelRegistry.Get("vae_2d").WithOverrides(iwaeSamples: 4));
        var x = data.TestImages.narrow(0, 0, 32);
        double Loss(double beta) { using var rng = new Generator(7); return model.ImportanceWeightedLoss(x, 4, rng, beta).Total.item<float>(); }
        // By hand from the same draws: -mean_b log (1/k) sum_i exp(log p(x|z_i) + beta (log p(z_i) - log q(z_i|x))).
        double ByHand(double beta)
        {
            using var rng = new Generator(7);
            var q = model.Encode(x);
            var (z, logQ) = q.Sample(4, rng);
            var logits = model.Decode(z.view(4 * 32, -1)).view(4, 32, -1);
            var logPx = LatentLab.Models.Likelihood.LogBernoulli(logits, x.flatten(1)).to(ScalarType.Float64);
            var logW = logPx + (model.Prior.LogDensity(z) - logQ).to(ScalarType.Float64) * beta;
            double total = 0;
            for (int b = 0; b < 32; b++)
            {
                var w = Enumerable.Range(0, 4).Select(i => logW[i, b].item<double>()).ToArray();
                double max = w.Max();
                total -= max + Math.Log(w.Average(v => Math.Exp(v - max)));
            }
            return total / 32;
        }
        foreach (double beta in new[] { 0.0, 0.3, 1.0 })
            Assert.Equal(ByHand(beta), Loss(beta), 1e-2);   // float32 sums of ~800 terms of size ~1 against a float64 reference
        Assert.NotEqual(Loss(0.3), Loss(1.0), 1e-2);   // the weight is used, not ignored
    }
}
