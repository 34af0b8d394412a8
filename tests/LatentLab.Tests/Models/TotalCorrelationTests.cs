using LatentLab.Models;
using LatentLab.Models.Priors;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary>β-TCVAE's decomposition of the KL term (Chen et al. 2018) against the same sums written out by hand, and a
/// β-TCVAE run that logs its terms.</summary>
public class TotalCorrelationTests(ITestOutputHelper output)
{
    [Fact]
    public void TheDecompositionIsTheMinibatchWeightedSumsAndAddsUpToTheKl()
    {
        const int m = 6, d = 3;
        const long n = 1000;
        manual_seed(4);
        var mu = randn([m, d], dtype: ScalarType.Float64);
        var logVar = randn([m, d], dtype: ScalarType.Float64) * 0.5;
        var z = mu + randn([m, d], dtype: ScalarType.Float64) * (logVar * 0.5).exp();
        var prior = new StandardNormalPrior(d);
        var parts = Objectives.DecomposeKl(z, mu, logVar, prior, n);

        double[,] Matrix(Tensor t) { var a = t.data<double>().ToArray(); var r = new double[m, d]; Buffer.BlockCopy(a, 0, r, 0, a.Length * 8); return r; }
        double[,] Z = Matrix(z), Mu = Matrix(mu), V = Matrix(logVar);
        double LogN(int i, int j, int k) => -0.5 * (Math.Pow(Z[i, k] - Mu[j, k], 2) / Math.Exp(V[j, k]) + V[j, k] + Math.Log(2 * Math.PI));
        double LogSumExp(IEnumerable<double> v) { var a = v.ToArray(); double top = a.Max(); return top + Math.Log(a.Sum(x => Math.Exp(x - top))); }
        double logNm = Math.Log((double)n * m);
        double mi = 0, tc = 0, dwkl = 0, kl = 0;
        for (int i = 0; i < m; i++)
        {
            double logQzx = Enumerable.Range(0, d).Sum(k => LogN(i, i, k));
            double logQz = LogSumExp(Enumerable.Range(0, m).Select(j => Enumerable.Range(0, d).Sum(k => LogN(i, j, k)))) - logNm;
            double logProduct = Enumerable.Range(0, d).Sum(k => LogSumExp(Enumerable.Range(0, m).Select(j => LogN(i, j, k))) - logNm);
            double logPz = Enumerable.Range(0, d).Sum(k => -0.5 * (Z[i, k] * Z[i, k] + Math.Log(2 * Math.PI)));
            mi += (logQzx - logQz) / m;
            tc += (logQz - logProduct) / m;
            dwkl += (logProduct - logPz) / m;
            kl += (logQzx - logPz) / m;
        }
        output.WriteLine($"MI {mi:F6}, TC {tc:F6}, dimension-wise KL {dwkl:F6}, KL {kl:F6}");
        // float64 throughout; the prior's density is float32 (Prior.LogDensity's contract): 1e-5 of values near 10.
        Assert.Equal(mi, parts.MutualInformation.item<double>(), 9);
        Assert.Equal(tc, parts.TotalCorrelation.item<double>(), 9);
        Assert.Equal(dwkl, parts.DimensionKl.to(ScalarType.Float64).item<double>(), 4);
        Assert.Equal(kl, (parts.MutualInformation + parts.TotalCorrelation + parts.DimensionKl).to(ScalarType.Float64).item<double>(), 4);
    }

    [Fact]
    public void ABetaTcVaeTrainsLogsItsTermsAndResumes()
    {
        var config = ModelRegistry.Get("vae_32d").WithOverrides(tcWeight: 6);
        Assert.Equal("vae_32d-tc6", config.Name);
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        var folder = new LatentLab.Storage.RunFolder(dir.Path);
        using (var trainer = new LatentLab.Training.Trainer(config, new LatentLab.Training.TrainingConfig(Epochs: 2, BatchSize: 64, Seed: 1), data, folder, tensorBoard: false))
            trainer.Train(false, null, CancellationToken.None);
        var csv = File.ReadAllText(folder.HistoryPath);
        output.WriteLine(csv);
        Assert.StartsWith(LatentLab.Storage.History.Header + LatentLab.Storage.History.KlPartsColumns, csv);
        var history = LatentLab.Storage.History.Read(folder.HistoryPath);
        foreach (var r in history)
        {
            var p = Assert.IsType<LatentLab.Storage.KlParts>(r.KlParts);
            // The three parts are the test KL's; each is float32 batch means, summed over 100 test images.
            Assert.True(Math.Abs(p.MutualInformation + p.TotalCorrelation + p.DimensionKl - r.TestKl) < 1e-3 * Math.Max(1, r.TestKl), $"{p} against KL {r.TestKl}");
        }
        // A third epoch from the checkpoint keeps the first two rows and their parts.
        using (var trainer = new LatentLab.Training.Trainer(config, new LatentLab.Training.TrainingConfig(Epochs: 3, BatchSize: 64, Seed: 1), data, folder, tensorBoard: false))
            trainer.Train(true, null, CancellationToken.None);
        var resumed = LatentLab.Storage.History.Read(folder.HistoryPath);
        Assert.Equal(3, resumed.Count);
        Assert.Equal(history[1].KlParts, resumed[1].KlParts);
    }
}

/// <summary>FactorVAE (Kim &amp; Mnih 2018): its discriminator's density-ratio estimate of the total correlation against
/// a correlated Gaussian's closed form, and a run that trains both optimisers and resumes bit for bit.</summary>
public class FactorVaeTests(ITestOutputHelper output)
{
    /// <summary>z ~ N(0, [[1, rho], [rho, 1]]) has TC = KL(q(z) || q(z1) q(z2)) = -log(1 - rho^2) / 2 (0.511 nats at
    /// rho = 0.8). The discriminator trained on codes against their dimension-shuffled copies estimates it by the mean
    /// difference of its logits on fresh codes.</summary>
    [Fact]
    public void TheDiscriminatorEstimatesACorrelatedGaussiansTotalCorrelation()
    {
        const double rho = 0.8;
        double exact = -0.5 * Math.Log(1 - rho * rho);
        manual_seed(3);
        using var rng = new Generator(5);
        // A narrower network than a model's (3 layers of 128 units): the estimator is the same, the test 100 times cheaper.
        using var discriminator = new LatentLab.Models.Vae.TotalCorrelationDiscriminator(2, width: 128, layers: 3);
        var optimizer = optim.Adam(discriminator.parameters(), lr: 3e-3, beta1: 0.5, beta2: 0.9);
        Tensor Codes(int n)
        {
            var e = randn([n, 2], generator: rng);
            return stack([e.select(1, 0), rho * e.select(1, 0) + Math.Sqrt(1 - rho * rho) * e.select(1, 1)], 1);
        }
        for (int step = 0; step < 800; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            discriminator.Loss(Codes(512), rng).backward();
            optimizer.step();
        }
        using var noGrad = no_grad();
        double estimate = discriminator.TotalCorrelation(Codes(20_000)).item<float>();
        output.WriteLine($"TC estimate {estimate:F4}, exact {exact:F4}");
        // The estimate is a fitted classifier's log-odds: biased by its finite training (800 steps of 512 pairs) and its
        // smooth fit of a quadratic log-ratio. It must land within a fifth of the exact value; a discriminator that
        // learned nothing gives 0, one that only memorised the batch gives far more.
        Assert.InRange(estimate, 0.8 * exact, 1.2 * exact);
    }

    [Fact]
    public void AFactorVaeTrainsBothOptimisersAndResumesBitForBit()
    {
        var config = ModelRegistry.Get("vae_32d").WithOverrides(latentDim: 4, gamma: 10);
        Assert.Equal("vae_32d-z4-gamma10", config.Name);
        using var data = Fixtures.MnistSlice();
        using var straight = new TempDir();
        using var resumed = new TempDir();
        var training = new LatentLab.Training.TrainingConfig(Epochs: 2, BatchSize: 100, Seed: 1);
        Dictionary<string, Tensor> Discriminator(LatentLab.Models.Autoencoder m) =>
            m.named_parameters().Where(p => p.name.StartsWith("discriminator.")).ToDictionary(p => p.name, p => p.parameter.detach().clone());
        Dictionary<string, Tensor> before;
        using (var trainer = new LatentLab.Training.Trainer(config, training, data, new LatentLab.Storage.RunFolder(straight.Path), tensorBoard: false))
        {
            before = Discriminator(trainer.Model);
            Assert.NotEmpty(before);
            trainer.Train(false, null, CancellationToken.None);
            // Its own optimiser moved the discriminator.
            var after = Discriminator(trainer.Model);
            Assert.Contains(after, p => !p.Value.equal(before[p.Key]).all().item<bool>());
        }
        using (var trainer = new LatentLab.Training.Trainer(config, training with { Epochs = 1 }, data, new LatentLab.Storage.RunFolder(resumed.Path), tensorBoard: false))
            trainer.Train(false, null, CancellationToken.None);
        using (var trainer = new LatentLab.Training.Trainer(config, training, data, new LatentLab.Storage.RunFolder(resumed.Path), tensorBoard: false))
            trainer.Train(true, null, CancellationToken.None);
        // The same weights, the discriminator's among them, whether the run stopped after an epoch or not.
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.Path, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed.Path, "model.safetensors")));
        // The KL term's parts are logged as for β-TCVAE (their minibatch-weighted estimates).
        var history = LatentLab.Storage.History.Read(Path.Combine(straight.Path, "history.csv"));
        Assert.All(history, r => Assert.NotNull(r.KlParts));
        output.WriteLine(File.ReadAllText(Path.Combine(straight.Path, "history.csv")));
    }

    [Fact]
    public void FactorVaeRefusesBfloat16AndTheBetaTcVae()
    {
        Assert.Contains("choose one", Assert.Throws<LatentLabException>(() => ModelRegistry.Get("vae_32d").WithOverrides(gamma: 10, tcWeight: 6).Validate()).Message);
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        var error = Assert.Throws<LatentLabException>(() => new LatentLab.Training.Trainer(ModelRegistry.Get("vae_32d").WithOverrides(gamma: 10),
            new LatentLab.Training.TrainingConfig(Epochs: 1) { Precision = LatentLab.Runtime.Precision.Bf16 }, data, new LatentLab.Storage.RunFolder(dir.Path), tensorBoard: false));
        Assert.Contains("--precision fp32", error.Message);
    }
}
