namespace LatentLab.Storage;

/// <summary>The files of one trained model: <c>OUT/&lt;dataset&gt;/&lt;model&gt;/</c>.</summary>
public sealed record RunFolder(string Root)
{
    public static RunFolder For(string outRoot, string dataset, string model) =>
        new(Path.GetFullPath(Path.Combine(outRoot, dataset, model)));

    /// <summary>The trained weights (safetensors), readable by Python's safetensors and PyTorch.</summary>
    public string ModelPath => Path.Combine(Root, "model.safetensors");
    /// <summary>Model and training configuration, seed, dataset checksums, library versions.</summary>
    public string ConfigPath => Path.Combine(Root, "config.json");
    /// <summary>One row per epoch: epoch,train_loss,test_loss,test_recon,test_kl,seconds.</summary>
    public string HistoryPath => Path.Combine(Root, "history.csv");
    /// <summary>Everything --resume needs: weights, optimizer moments, RNG state, position, history.</summary>
    public string CheckpointPath => Path.Combine(Root, "checkpoint.safetensors");

    /// <summary>The model measured on the test split (written by latent evaluate).</summary>
    public string MetricsPath => Path.Combine(Root, "metrics.json");

    /// <summary>An autoencoder's fitted sampler (<see cref="Models.Samplers.SamplerFile"/>), written with metrics.json.</summary>
    public string SamplerPath => Path.Combine(Root, Models.Samplers.SamplerFile.FileName);

    /// <summary>Writes what an evaluation leaves: an AE's fitted sampler first (fitted to its training codes of
    /// <paramref name="data"/> if the evaluation did not leave one on this model), then metrics.json, the file whose
    /// presence says the run is measured.</summary>
    public void SaveEvaluation(Evaluation.Metrics metrics, Models.Autoencoder model, Data.Dataset data)
    {
        if (!model.IsVariational)
        {
            Evaluation.Evaluator.EnsureSampler(model, data);
            Models.Samplers.SamplerFile.Save(model.FittedSampler!, SamplerPath);
        }
        if (metrics.ExactPerImage is { } plane) IO.AtomicFile.WriteAllText(ExactLogPxPath, Evaluation.PlaneIntegral.ToCsv(plane));
        else if (File.Exists(ExactLogPxPath)) File.Delete(ExactLogPxPath);
        IO.Json.WriteFile(MetricsPath, metrics);
    }

    /// <summary>A 2-d VAE's exact log p(x) per test image (written with metrics.json; <see cref="Evaluation.PlaneIntegral.ToCsv"/>).</summary>
    public string ExactLogPxPath => Path.Combine(Root, "log_px_exact.csv");

    /// <summary>The per-image exact log p(x) of the weights as they are now, on the test images as they are (not
    /// binarized): null when there is none, it is older than the weights, or metrics.json says it was measured on
    /// binarized images.</summary>
    public Evaluation.PlaneLikelihood? ExactLogPx()
    {
        if (!File.Exists(ExactLogPxPath) || !File.Exists(MetricsPath) || !File.Exists(ModelPath)) return null;
        if (File.GetLastWriteTimeUtc(ExactLogPxPath) < File.GetLastWriteTimeUtc(ModelPath)) return null;
        try
        {
            if (IO.Json.ReadFile<Evaluation.Metrics>(MetricsPath).Binarized) return null;
            return Evaluation.PlaneIntegral.ReadCsv(ExactLogPxPath);
        }
        catch (Exception e) when (e is IOException or LatentLabException or System.Text.Json.JsonException or FormatException) { return null; }
    }

    /// <summary>Epochs in history.csv: 0 when there is none.</summary>
    public int EpochsTrained() => File.Exists(HistoryPath) ? History.Read(HistoryPath).Count : 0;

    /// <summary>Whether metrics.json measures the weights as they are now and as asked: newer than model.safetensors,
    /// with importance-weighted k = <paramref name="iwaeK"/> for a VAE (0: none), and with the Fréchet distances when
    /// <paramref name="frechet"/>. The one answer to "is this run measured?" for compare and sweep.</summary>
    public bool IsMeasured(bool variational, int iwaeK, bool frechet = false)
    {
        if (!File.Exists(MetricsPath) || !File.Exists(ModelPath)) return false;
        if (File.GetLastWriteTimeUtc(MetricsPath) < File.GetLastWriteTimeUtc(ModelPath)) return false;
        try
        {
            var measured = IO.Json.ReadFile<Evaluation.Metrics>(MetricsPath);
            if (variational && (measured.IwaeK ?? 0) != iwaeK) return false;
            return !frechet || measured.SampleFrechet is not null;
        }
        catch (LatentLabException)
        {
            return false;   // a corrupt file: measure again
        }
    }

    /// <summary>Test codes after every epoch, for 2-d models (<see cref="LatentSnapshots"/>).</summary>
    public string SnapshotsPath => Path.Combine(Root, LatentSnapshots.FileName);

    /// <summary>Pictures written by latent visualize.</summary>
    public string FiguresDir => Path.Combine(Root, "figures");
    /// <summary>GIF animations written by latent visualize.</summary>
    public string AnimationsDir => Path.Combine(Root, "animations");

    public void Create() => Directory.CreateDirectory(Root);

    /// <summary>config.json, or one clear error when the folder holds no trained model.</summary>
    public RunRecord ReadRecord()
    {
        if (!File.Exists(ConfigPath) || !File.Exists(ModelPath))
            throw new LatentLabException($"no trained model in {Root}; train it first with 'latent train'");
        return IO.Json.ReadFile<RunRecord>(ConfigPath);
    }

    /// <summary>The trained model: its configuration from config.json, its weights from model.safetensors.</summary>
    public Models.Autoencoder LoadModel()
    {
        var record = ReadRecord();
        Manifest.Verify(Root, Path.GetFileName(ModelPath));
        var model = Models.Autoencoder.Create(record.Model);
        try
        {
            Models.ModelFile.Load(model, ModelPath);
            if (!model.IsVariational && File.Exists(SamplerPath)) model.UseSampler(Models.Samplers.SamplerFile.Load(SamplerPath, model.Config.LatentDim));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
