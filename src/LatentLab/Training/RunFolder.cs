namespace LatentLab.Training;

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

    public void Create() => Directory.CreateDirectory(Root);
}
