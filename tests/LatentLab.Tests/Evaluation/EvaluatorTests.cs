using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Models;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Tests.Evaluation;

public class EvaluatorTests
{
    static Metrics TrainAndEvaluate(string model, string folder, EvaluationOptions options)
    {
        using var data = Fixtures.MnistSlice();
        using var trainer = new Trainer(ModelRegistry.Get(model), new TrainingConfig(Epochs: 2, BatchSize: 64), data, new RunFolder(folder));
        trainer.Train(false, null, CancellationToken.None);
        return Evaluator.Evaluate(trainer.Model, data, options);
    }

    [Fact]
    public void AVaeGetsEveryFieldAndTheIwaeBoundLiesAboveTheElbo()
    {
        using var dir = new TempDir();
        var m = TrainAndEvaluate("vae_32d", dir.Path, new EvaluationOptions(IwaeK: 50));
        Assert.NotNull(m.TestElbo);
        Assert.NotNull(m.TestLogPxIwae);
        Assert.True(m.TestLogPxIwae >= m.TestElbo, $"IWAE {m.TestLogPxIwae} < ELBO {m.TestElbo}");
        Assert.Equal(32, m.KlPerDim!.Length);
        Assert.Equal(m.TestKl!.Value, m.KlPerDim.Sum(), 6);
        Assert.InRange(m.ActiveUnits!.Value, 0, 32);
        Assert.Equal(32, m.LatentMean.Length);
        Assert.InRange(m.TestSsim, 0, 1);
        Assert.InRange(m.KnnAccuracy!.Value, 0.2, 1);        // 10 classes: far above chance even after 2 short epochs
        Assert.InRange(m.LinearProbeAccuracy!.Value, 0.2, 1);
        Assert.Equal(100, m.TestImages);
        Assert.Equal(50, m.IwaeK);

        Json.WriteFile(dir["metrics.json"], m);
        var text = File.ReadAllText(dir["metrics.json"]);
        foreach (var field in new[] { "test_mse", "test_ssim", "test_psnr", "test_bce", "test_elbo", "test_kl", "test_log_px_iwae",
                     "iwae_k", "kl_per_dim", "active_units", "latent_mean", "latent_std", "knn_accuracy", "linear_probe_accuracy",
                     "eval_seconds", "seed", "dataset_sha256", "binarized" })
            Assert.Contains($"\"{field}\"", text);
    }

    [Fact]
    public void AnAutoencoderHasNoVariationalFields()
    {
        using var dir = new TempDir();
        var m = TrainAndEvaluate("ae_2d", dir.Path, new EvaluationOptions(IwaeK: 50));
        Assert.Null(m.TestElbo);
        Assert.Null(m.TestLogPxIwae);
        Assert.DoesNotContain("test_elbo", Json.Serialize(m));
    }

    [Fact]
    public void EvaluationIsDeterministicForASeed()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        using var trainer = new Trainer(ModelRegistry.Get("vae_2d"), new TrainingConfig(Epochs: 1, BatchSize: 64), data, new RunFolder(dir.Path));
        trainer.Train(false, null, CancellationToken.None);
        var a = Evaluator.Evaluate(trainer.Model, data, new EvaluationOptions(IwaeK: 20, Binarize: true));
        var b = Evaluator.Evaluate(trainer.Model, data, new EvaluationOptions(IwaeK: 20, Binarize: true));
        Assert.Equal(a.TestElbo, b.TestElbo);
        Assert.Equal(a.TestLogPxIwae, b.TestLogPxIwae);
        Assert.True(a.Binarized);
    }
}
