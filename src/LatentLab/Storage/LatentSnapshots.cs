using LatentLab.IO;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Storage;

/// <summary>latent_snapshots.safetensors: the codes of a fixed set of test images after every epoch of a 2-d
/// model's training (and before the first), so one can watch the latent space organise.</summary>
/// <remarks>Tensors: <c>labels</c> (int64 [M]), <c>indices</c> (int64 [M], rows of the test split) and one
/// <c>epoch_NNNN</c> (float32 [M, 2]) per epoch, epoch_0000 being the untrained model. M = 2,000 codes per epoch
/// are 16 KB, so the whole history of a long run stays small. Rewritten atomically each epoch before the
/// checkpoint; on resume the snapshots of epochs the checkpoint does not cover are dropped.</remarks>
public static class LatentSnapshots
{
    public const string FileName = "latent_snapshots.safetensors";
    public const int Images = 2000;

    /// <summary>Only models with a 2-d latent keep snapshots: their codes are the picture.</summary>
    public static bool Applies(ModelConfig config) => config.LatentDim == 2;

    public static string Key(int epoch) => $"epoch_{epoch:D4}";

    /// <summary>Appends the codes after <paramref name="epoch"/>, dropping any snapshot of a later epoch.</summary>
    public static void Append(string path, Autoencoder model, Tensor testImages, Tensor testLabels, int epoch)
    {
        using var scope = NewDisposeScope();
        var existing = File.Exists(path) ? Read(path) : new SortedDictionary<int, Tensor>();
        long m = Math.Min(Images, testImages.shape[0]);
        bool wasTraining = model.training;
        model.eval();
        Tensor codes;
        using (no_grad()) codes = model.EncodeMean(testImages.narrow(0, 0, m)).to(ScalarType.Float32);
        model.train(wasTraining);
        foreach (var later in existing.Keys.Where(e => e >= epoch).ToList()) existing.Remove(later);
        existing[epoch] = codes;
        var tensors = new List<(string, Tensor)>
        {
            ("labels", testLabels.narrow(0, 0, m).to(ScalarType.Int64)),
            ("indices", arange(m, dtype: ScalarType.Int64)),
        };
        tensors.AddRange(existing.Select(e => (Key(e.Key), e.Value)));
        SafeTensors.Write(path, tensors);
    }

    /// <summary>Keeps only the snapshots of epochs up to <paramref name="lastEpoch"/> (used when resuming).</summary>
    public static void Truncate(string path, int lastEpoch)
    {
        if (!File.Exists(path)) return;
        using var scope = NewDisposeScope();
        var (tensors, _) = SafeTensors.Read(path);
        var keep = tensors.Where(t => !t.Key.StartsWith("epoch_", StringComparison.Ordinal) || EpochOf(t.Key) <= lastEpoch).ToList();
        if (keep.Count == tensors.Count) return;
        SafeTensors.Write(path, keep.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value.ToTensor())));
    }

    /// <summary>Codes per epoch, in epoch order.</summary>
    public static SortedDictionary<int, Tensor> Read(string path)
    {
        var (tensors, _) = SafeTensors.Read(path);
        var result = new SortedDictionary<int, Tensor>();
        foreach (var (name, tensor) in tensors)
        {
            if (!name.StartsWith("epoch_", StringComparison.Ordinal)) continue;
            if (tensor.Shape.Length != 2 || tensor.Shape[1] != 2 || tensor.Dtype != "F32")
                throw new CorruptFileException(path, $"tensor {name} has shape [{string.Join(", ", tensor.Shape)}] {tensor.Dtype}, expected [M, 2] F32");
            result[EpochOf(name)] = tensor.ToTensor();
        }
        return result;
    }

    /// <summary>Labels of the snapshot images.</summary>
    public static Tensor ReadLabels(string path) =>
        SafeTensors.Read(path).Tensors.TryGetValue("labels", out var labels)
            ? labels.ToTensor()
            : throw new CorruptFileException(path, "no labels tensor");

    static int EpochOf(string key) => int.TryParse(key.AsSpan("epoch_".Length), out var e) ? e : -1;
}
