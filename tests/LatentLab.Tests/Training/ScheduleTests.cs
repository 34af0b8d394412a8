using LatentLab.Models;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Tests.Training;

/// <summary>The learning-rate schedule and the KL warm-up: functions of the step alone, so a resumed run follows them.</summary>
public class ScheduleTests
{
    [Fact]
    public void CosineAnnealsFromTheLearningRateToZeroAndConstantStays()
    {
        var cosine = new TrainingConfig(LearningRate: 2e-3) { LrSchedule = LrSchedule.Cosine };
        Assert.Equal(2e-3, cosine.LearningRateAt(0, 1000), 15);
        Assert.Equal(1e-3, cosine.LearningRateAt(500, 1000), 15);
        Assert.Equal(2e-3 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), cosine.LearningRateAt(250, 1000), 15);
        Assert.True(cosine.LearningRateAt(999, 1000) < 1e-8);
        var constant = new TrainingConfig(LearningRate: 2e-3);
        Assert.Equal(2e-3, constant.LearningRateAt(999, 1000));
    }

    [Fact]
    public void TheKlWeightRisesLinearlyOverTheWarmUpEpochsThenStaysAtOne()
    {
        var warm = new TrainingConfig(Epochs: 5) { KlWarmupEpochs = 2 };
        Assert.Equal(0.05, warm.KlWeightAt(0, 10), 12);
        Assert.Equal(0.5, warm.KlWeightAt(9, 10), 12);
        Assert.Equal(1.0, warm.KlWeightAt(19, 10));
        Assert.Equal(1.0, warm.KlWeightAt(40, 10));
        Assert.Equal(1.0, new TrainingConfig().KlWeightAt(0, 10));
        Assert.Throws<LatentLabException>(() => new TrainingConfig(Epochs: 3) { KlWarmupEpochs = 4 }.Validate());
    }

    [Fact]
    public void AWarmUpNeedsAVae()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        var config = new TrainingConfig(Epochs: 2) { KlWarmupEpochs = 1 };
        var error = Assert.Throws<LatentLabException>(() => new Trainer(ModelRegistry.Get("ae_2d"), config, data, new RunFolder(dir.Path)));
        Assert.Contains("--kl-warmup", error.Message);
        // The importance-weighted objective takes one: the prior's and the posterior's terms weighed inside each log w.
        using var iwae = new Trainer(ModelRegistry.Get("vae_2d").WithOverrides(iwaeSamples: 3), config, data, new RunFolder(dir.Path));
    }

    static byte[] WeightBytes(Autoencoder model) => model.parameters().SelectMany(p => p.bytes.ToArray()).ToArray();

    sealed class CancelAfter(CancellationTokenSource cancel, int epoch, int batch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Epoch == epoch && p.Batch == batch && p.Completed is null) cancel.Cancel();
        }
    }

    [Fact]
    public void AScheduledRunChangesTrainingAndResumesToTheSameBytes()
    {
        using var data = Fixtures.MnistSlice();
        using var plain = new TempDir();
        using var a = new TempDir();
        using var b = new TempDir();
        var baseline = new TrainingConfig(Epochs: 3, BatchSize: 64, Seed: 2);
        var scheduled = baseline with { LrSchedule = LrSchedule.Cosine, KlWarmupEpochs = 2 };
        byte[] constant, expected;
        using (var t = new Trainer(ModelRegistry.Get("vae_2d"), baseline, data, new RunFolder(plain.Path)))
        {
            t.Train(false, null, CancellationToken.None);
            constant = WeightBytes(t.Model);
        }
        using (var t = new Trainer(ModelRegistry.Get("vae_2d"), scheduled, data, new RunFolder(a.Path)))
        {
            t.Train(false, null, CancellationToken.None);
            expected = WeightBytes(t.Model);
            // The test loss is the full ELBO whatever the warm-up: the KL weight is an argument of the training step's loss only.
            Assert.True(t.History.All(h => Math.Abs(h.TestLoss - (h.TestRecon + h.TestKl)) < 1e-3 * h.TestLoss));
        }
        Assert.NotEqual(constant, expected);
        using (var cancel = new CancellationTokenSource())
        using (var first = new Trainer(ModelRegistry.Get("vae_2d"), scheduled, data, new RunFolder(b.Path)))
            Assert.Equal(TrainingOutcome.Interrupted, first.Train(false, new CancelAfter(cancel, epoch: 2, batch: 2), cancel.Token));
        using var resumed = new Trainer(ModelRegistry.Get("vae_2d"), scheduled, data, new RunFolder(b.Path));
        Assert.Equal(TrainingOutcome.Completed, resumed.Train(true, null, CancellationToken.None));
        Assert.Equal(expected, WeightBytes(resumed.Model));
        var record = LatentLab.IO.Json.ReadFile<RunRecord>(new RunFolder(b.Path).ConfigPath);
        Assert.Equal(LrSchedule.Cosine, record.Training.LrSchedule);
        Assert.Equal(2, record.Training.KlWarmupEpochs);
    }

    [Fact]
    public void AValidationSplitIsHeldOutAndEarlyStoppingKeepsTheBestEpochAndResumesToIt()
    {
        using var slice = Fixtures.MnistSlice();
        // 40 images to train on, 40 to validate: the validation loss levels off within a few dozen epochs.
        using var data = slice.Slice(80, 100);
        using var a = new TempDir();
        var config = new TrainingConfig(Epochs: 300, BatchSize: 40, LearningRate: 1e-3, Seed: 1) { ValidationImages = 40, Patience = 3 };
        List<EpochRecord> history;
        byte[] best;
        using (var t = new Trainer(ModelRegistry.Get("ae_32d"), config, data, new RunFolder(a.Path)))
        {
            Assert.Equal(40, t.TrainCount);
            Assert.Equal(1, t.BatchesPerEpoch);
            t.Train(false, null, CancellationToken.None);
            history = t.History;
            best = WeightBytes(t.Model);
        }
        Assert.All(history, h => Assert.NotNull(h.ValidationLoss));
        var bestEpoch = history.Aggregate((x, y) => y.ValidationLoss < x.ValidationLoss ? y : x);
        Assert.True(history.Count < 300, $"did not stop early: {string.Join(", ", history.Select(h => h.ValidationLoss))}");
        Assert.Equal(3, history.Count - bestEpoch.Epoch);
        // model.safetensors holds the best epoch's weights, and the trainer's model is that one after training.
        using (var reloaded = Autoencoder.Create(ModelRegistry.Get("ae_32d")))
        {
            ModelFile.Load(reloaded, new RunFolder(a.Path).ModelPath);
            Assert.Equal(best, WeightBytes(reloaded));
        }
        var csv = File.ReadAllText(new RunFolder(a.Path).HistoryPath);
        Assert.StartsWith(History.HeaderWithValidation, csv);
        Assert.Equal(history, History.Read(new RunFolder(a.Path).HistoryPath), new HistoryComparer());

        // Resuming a run that stopped early trains nothing more.
        using (var again = new Trainer(ModelRegistry.Get("ae_32d"), config, data, new RunFolder(a.Path)))
        {
            var notes = new List<string>();
            again.Train(true, new Notes(notes), CancellationToken.None);
            Assert.Equal(history.Count, again.History.Count);
            Assert.Contains(notes, n => n.StartsWith("stopped early"));
        }
        // Another split would not continue the same run: refused, naming the one to use.
        using var other = new Trainer(ModelRegistry.Get("ae_32d"), config with { ValidationImages = 20 }, data, new RunFolder(a.Path));
        Assert.Contains("--validation 40", Assert.Throws<LatentLabException>(() => other.Train(true, null, CancellationToken.None)).Message);
    }

    sealed class Notes(List<string> notes) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) { if (p.Message is { } m) notes.Add(m); }
    }

    sealed class HistoryComparer : IEqualityComparer<EpochRecord>
    {
        public bool Equals(EpochRecord? x, EpochRecord? y) => x!.Epoch == y!.Epoch && x.ValidationLoss.Equals(y.ValidationLoss) && x.TestLoss.Equals(y.TestLoss);
        public int GetHashCode(EpochRecord r) => r.Epoch;
    }

    [Fact]
    public void PatienceWithoutAValidationSplitIsOneClearLine()
    {
        var (exit, _, error) = LatentCommand.Run("train", "--model", "vae_2d", "--patience", "3", "--out", Path.GetTempPath());
        Assert.Equal(2, exit);
        Assert.Equal("latent: --patience needs a validation split: add --validation N", error.Trim());
    }
}
