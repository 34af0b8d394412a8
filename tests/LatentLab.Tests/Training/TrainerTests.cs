using LatentLab.Data;
using LatentLab.Models;
using LatentLab.Training;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Tests.Training;

public class TrainerTests
{
    static readonly TrainingConfig Quick = new(Epochs: 3, BatchSize: 64, LearningRate: 1e-3, Seed: 4);

    sealed class CancelAfter(CancellationTokenSource cancel, int epoch, int batch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Epoch == epoch && p.Batch == batch && p.Completed is null) cancel.Cancel();
        }
    }

    static float[] Weights(Autoencoder model) =>
        model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    static (float[] Weights, List<EpochRecord> History) Uninterrupted(Dataset data, string folder)
    {
        using var trainer = new Trainer(ModelRegistry.Get("vae_2d"), Quick, data, new RunFolder(folder));
        Assert.Equal(TrainingOutcome.Completed, trainer.Train(resume: false, null, CancellationToken.None));
        return (Weights(trainer.Model), trainer.History);
    }

    [Fact]
    public void WritesTheRunFolderAndTheTestLossFalls()
    {
        using var dir = new TempDir();
        using var data = Fixtures.MnistSlice();
        Uninterrupted(data, dir.Path);
        var folder = new RunFolder(dir.Path);
        foreach (var file in new[] { folder.ModelPath, folder.ConfigPath, folder.HistoryPath, folder.CheckpointPath })
            Assert.True(File.Exists(file), file);
        var history = History.Read(folder.HistoryPath);
        Assert.Equal([1, 2, 3], history.Select(h => h.Epoch));
        Assert.True(history[^1].TestLoss < history[0].TestLoss);
        var record = LatentLab.IO.Json.ReadFile<RunRecord>(folder.ConfigPath);
        Assert.Equal("vae_2d", record.Model.Name);
        Assert.Equal(4, record.Training.Seed);
        Assert.Equal(64, record.Dataset.Sha256["train-images-idx3-ubyte"].Length);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp")); // no temporary files left behind
    }

    [Fact]
    public void ResumingAfterAnInterruptionMidEpochEndsWithTheSameWeights()
    {
        using var data = Fixtures.MnistSlice();
        using var a = new TempDir();
        using var b = new TempDir();
        var (expected, expectedHistory) = Uninterrupted(data, a.Path);

        using (var cancel = new CancellationTokenSource())
        using (var first = new Trainer(ModelRegistry.Get("vae_2d"), Quick, data, new RunFolder(b.Path)))
            Assert.Equal(TrainingOutcome.Interrupted, first.Train(false, new CancelAfter(cancel, epoch: 2, batch: 4), cancel.Token));
        Assert.Single(History.Read(new RunFolder(b.Path).HistoryPath));

        using var resumed = new Trainer(ModelRegistry.Get("vae_2d"), Quick, data, new RunFolder(b.Path));
        Assert.Equal(TrainingOutcome.Completed, resumed.Train(resume: true, null, CancellationToken.None));
        Assert.Equal(expected, Weights(resumed.Model));
        Assert.Equal(expectedHistory.Select(h => h.TestLoss), resumed.History.Select(h => h.TestLoss));
        Assert.Equal(expectedHistory.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
    }

    [Fact]
    public void ResumeWithoutACheckpointStartsFromTheBeginningAndSaysSo()
    {
        using var dir = new TempDir();
        using var data = Fixtures.MnistSlice();
        var messages = new List<string>();
        using var trainer = new Trainer(ModelRegistry.Get("ae_2d"), Quick with { Epochs = 1 }, data, new RunFolder(dir.Path));
        trainer.Train(resume: true, new LatentLab.Cli.Ui.SynchronousProgress<TrainingProgress>(p => { if (p.Message is { } m) messages.Add(m); }), CancellationToken.None);
        Assert.Contains(messages, m => m.Contains("starting from the beginning"));
        Assert.Single(trainer.History);
    }

    [Fact]
    public void ANonFiniteLossStopsTrainingNamingEpochAndStep()
    {
        using var dir = new TempDir();
        using var data = Fixtures.MnistSlice();
        using var trainer = new Trainer(ModelRegistry.Get("vae_2d"), Quick with { LearningRate = 1e3 }, data, new RunFolder(dir.Path));
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(false, null, CancellationToken.None));
        Assert.Matches("at epoch \\d+, step \\d+", e.Message);
    }
}

public class RunLockTests
{
    [Fact]
    public void ASecondWriterIsRefusedWhileTheFirstHoldsTheFolder()
    {
        using var dir = new TempDir();
        using var data = Fixtures.MnistSlice();
        using var trainer = new Trainer(ModelRegistry.Get("ae_2d"), new TrainingConfig(Epochs: 1, BatchSize: 100), data, new RunFolder(dir.Path));
        using (RunLock.Acquire(dir.Path))
        {
            var e = Assert.Throws<LatentLabException>(() => trainer.Train(false, null, CancellationToken.None));
            Assert.Contains("another 'latent train'", e.Message);
        }
        Assert.Equal(TrainingOutcome.Completed, trainer.Train(false, null, CancellationToken.None)); // released
    }
}

public class ManifestTests
{
    [Fact]
    public void TheManifestListsTheWeightsAndCheckpointAndCatchesAnyChange()
    {
        using var dir = new TempDir();
        using var data = Fixtures.MnistSlice();
        using (var trainer = new Trainer(ModelRegistry.Get("ae_2d"), new TrainingConfig(Epochs: 1, BatchSize: 100), data, new RunFolder(dir.Path)))
            trainer.Train(false, null, CancellationToken.None);
        var folder = new RunFolder(dir.Path);
        var lines = File.ReadAllLines(Path.Combine(dir.Path, Manifest.FileName));
        Assert.Equal(["model.safetensors", "checkpoint.safetensors"], lines.Select(l => l.Split("  ")[1]));
        Assert.Equal(LatentLab.IO.Hashing.FileSha256(folder.ModelPath), lines[0].Split("  ")[0]);
        using (folder.LoadModel()) { }

        // A file swapped for another valid one (here: the same model saved again after a change) is caught too.
        using (var other = Autoencoder.Create(ModelRegistry.Get("ae_2d"))) ModelFile.Save(other, folder.ModelPath);
        var e = Assert.Throws<CorruptFileException>(() => folder.LoadModel());
        Assert.Contains("SHA256SUMS", e.Message);
    }
}

public class CheckpointRngStateTests
{
    /// <summary>A checkpoint whose generator state is well signed but not a valid mt19937 state (found by the fuzz
    /// test: a header whose offsets shift the tensors): libtorch would end the process; we refuse it in one line.</summary>
    [Theory]
    [InlineData(8, 0)]      // left = 0
    [InlineData(12, 0)]     // seeded = 0
    [InlineData(16, 625)]   // next past the state
    public void AnInvalidGeneratorStateIsRefusedNotFatal(int offset, int value)
    {
        using var dir = new TempDir();
        manual_seed(1);
        using var model = new LatentLab.Models.Vae.VariationalAutoencoder(new ModelConfig("vae_2d", ModelKind.Vae, 2, [4]) { Image = new(1, 1, 6) });
        using var adam = new FlatAdam(model.parameters(), 1e-3);
        using var rng = new Generator(3);
        var path = dir["checkpoint.safetensors"];
        Checkpoint.Save(path, model, adam, rng, new TrainingPosition(1, 0, 0, 0, 0), null, [new EpochRecord(1, 2, 2, 2, 0, 1)]);

        var (tensors, metadata) = LatentLab.IO.SafeTensors.Read(path);
        var state = tensors["rng.state"].Data.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(offset), value);
        tensors["rng.state"] = tensors["rng.state"] with { Data = state };
        LatentLab.IO.SafeTensors.Write(path, tensors.Select(t => (t.Key, t.Value.ToTensor())), metadata);

        var error = Assert.Throws<CorruptFileException>(() => Checkpoint.Load(path, model, adam, rng));
        Assert.Contains("mt19937", error.Message);
        Assert.Contains(path, error.Message);
    }
}

public class LatentSnapshotTests
{
    [Fact]
    public void TwoDimensionalRunsKeepTheTestCodesOfEveryEpochAndResumeDropsTheUncovered()
    {
        using var dir = new TempDir();
        using var data = Fixtures.MnistSlice();
        var folder = new RunFolder(dir.Path);
        using (var trainer = new Trainer(ModelRegistry.Get("vae_2d"), new TrainingConfig(Epochs: 3, BatchSize: 100), data, folder))
            trainer.Train(resume: false, null, CancellationToken.None);

        var snapshots = LatentSnapshots.Read(folder.SnapshotsPath);
        Assert.Equal([0, 1, 2, 3], snapshots.Keys);
        long m = Math.Min(LatentSnapshots.Images, data.TestCount);
        Assert.All(snapshots.Values, codes => Assert.Equal([m, 2], codes.shape));
        Assert.False(snapshots[0].allclose(snapshots[3]));     // training moved the codes
        Assert.Equal(m, LatentSnapshots.ReadLabels(folder.SnapshotsPath).shape[0]);

        LatentSnapshots.Truncate(folder.SnapshotsPath, 1);
        Assert.Equal([0, 1], LatentSnapshots.Read(folder.SnapshotsPath).Keys);

        // 32-d models keep none.
        using var other = new TempDir();
        using (var trainer = new Trainer(ModelRegistry.Get("ae_32d"), new TrainingConfig(Epochs: 1, BatchSize: 100), data, new RunFolder(other.Path)))
            trainer.Train(resume: false, null, CancellationToken.None);
        Assert.False(File.Exists(new RunFolder(other.Path).SnapshotsPath));
    }
}
