using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Training;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Tests.Evaluation;

/// <summary>The Fréchet distance against its closed forms, and the sample-quality numbers of metrics.json on the slice.</summary>
public class FrechetTests
{
    static Tensor Points(long n, int d, ulong seed)
    {
        using var rng = new Generator(seed);
        // Correlated, shifted, unequal spreads: a covariance far from the identity.
        var mix = randn(d, d, dtype: ScalarType.Float64, generator: rng);
        return randn(n, d, dtype: ScalarType.Float64, generator: rng).mm(mix) + 3;
    }

    [Fact]
    public void ShiftedAndScaledCopiesHaveTheirClosedForms()
    {
        var x = Points(2000, 16, 1);
        var c = Points(1, 16, 2).squeeze(0);
        // Same covariance: only the means differ, FD = |c|^2.
        Assert.Equal(c.square().sum().item<double>(), FeatureNet.FrechetDistance(x, x + c), 6);
        Assert.Equal(0, FeatureNet.FrechetDistance(x, x), 6);
        // x against 2x: |m|^2 + tr(S) + tr(4S) - 2 tr(2S) = |m|^2 + tr(S).
        var mean = x.mean([0]);
        var centred = x - mean;
        double traceS = (centred.t().mm(centred) / (x.shape[0] - 1)).trace().item<double>();
        Assert.Equal(mean.square().sum().item<double>() + traceS, FeatureNet.FrechetDistance(x, 2 * x), 6);
        // Symmetric.
        var y = Points(1500, 16, 3);
        Assert.Equal(FeatureNet.FrechetDistance(x, y), FeatureNet.FrechetDistance(y, x), 6);
    }

    [Fact]
    public void ModelSamplesScoreFarAboveTheTrainingSplitAndTheNetworkIsCachedOnce()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        using var trainer = new Trainer(ModelRegistry.Get("vae_32d"), new TrainingConfig(Epochs: 2, BatchSize: 64), data, new RunFolder(dir["run"]));
        trainer.Train(resume: false, null, CancellationToken.None);
        var options = new EvaluationOptions(IwaeK: 0, FeatureNetFolder: dir["nets"]);
        var metrics = Evaluator.Evaluate(trainer.Model, data, options);
        Assert.NotNull(metrics.SampleFrechet);
        Assert.True(metrics.FrechetTrainTest > 0);
        // Real images against real images sit far below a barely trained model's samples and reconstructions.
        Assert.True(metrics.SampleFrechet > 5 * metrics.FrechetTrainTest, $"samples {metrics.SampleFrechet}, train/test {metrics.FrechetTrainTest}");
        Assert.True(metrics.ReconFrechet > 2 * metrics.FrechetTrainTest, $"reconstructions {metrics.ReconFrechet}, train/test {metrics.FrechetTrainTest}");
        Assert.True(metrics.FrechetNetAccuracy > 0.5, $"the classifier's test accuracy is {metrics.FrechetNetAccuracy}");
        var cached = Assert.Single(Directory.GetFiles(dir["nets"], "*.safetensors"));
        var written = File.GetLastWriteTimeUtc(cached);

        // A second evaluation reuses the cached network: same file, same numbers.
        var again = Evaluator.Evaluate(trainer.Model, data, options);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cached));
        Assert.Equal(metrics.FrechetNetSha256, again.FrechetNetSha256);
        Assert.Equal(metrics.SampleFrechet, again.SampleFrechet);
        Assert.Equal(metrics.ReconFrechet, again.ReconFrechet);

        // Without a folder the distances are skipped.
        Assert.Null(Evaluator.Evaluate(trainer.Model, data, options with { FeatureNetFolder = null }).SampleFrechet);
    }
}
