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
