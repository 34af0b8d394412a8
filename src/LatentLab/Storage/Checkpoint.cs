using LatentLab.Training;
using System.Buffers.Binary;
using System.Globalization;
using LatentLab.IO;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Storage;

/// <summary>Where training stands: epochs completed, the next batch of the current epoch, and the running sums
/// of the current epoch (so a run stopped mid-epoch resumes at the same batch with the same statistics).</summary>
public sealed record TrainingPosition(int CompletedEpochs, int NextBatch, double LossSum, long ImagesSeen, double SecondsSoFar)
{
    public static readonly TrainingPosition Start = new(0, 0, 0, 0, 0);
    public bool MidEpoch => NextBatch > 0;
}

/// <summary>What a checkpoint holds besides the tensors it copies into the live model and optimizer.</summary>
public sealed record CheckpointContents(TrainingPosition Position, Tensor? Permutation, List<EpochRecord> History);

/// <summary>The resumable state of a run in one safetensors file: weights, Adam moments, RNG state, the current
/// epoch's permutation, position and history. Written atomically, so a crash leaves the previous one intact.</summary>
public static class Checkpoint
{
    const string Format = "latentlab-checkpoint-1";
    const string ModelPrefix = "model.";

    /// <param name="adversary">The optimiser of the objective's adversary (FactorVAE's discriminator), saved beside
    /// the model's as <c>adversary_adam.*</c>; null for models without one.</param>
    public static void Save(string path, Autoencoder model, FlatAdam adam, Generator rng, TrainingPosition position,
        Tensor? permutation, IReadOnlyList<EpochRecord> history, FlatAdam? adversary = null)
    {
        var (m, v, steps) = adam.State;
        var tensors = ModelFile.Tensors(model, ModelPrefix).ToList();
        tensors.Add(("adam.m", m));
        tensors.Add(("adam.v", v));
        if (adversary is not null)
        {
            tensors.Add(("adversary_adam.m", adversary.State.M));
            tensors.Add(("adversary_adam.v", adversary.State.V));
        }
        tensors.Add(("rng.state", rng.get_state()));
        if (permutation is not null) tensors.Add(("epoch.permutation", permutation));

        string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model"] = model.Config.Name,
            ["completed_epochs"] = position.CompletedEpochs.ToString(CultureInfo.InvariantCulture),
            ["next_batch"] = position.NextBatch.ToString(CultureInfo.InvariantCulture),
            ["loss_sum"] = F(position.LossSum),
            ["images_seen"] = position.ImagesSeen.ToString(CultureInfo.InvariantCulture),
            ["seconds_so_far"] = F(position.SecondsSoFar),
            ["adam_steps"] = steps.ToString(CultureInfo.InvariantCulture),
            ["adversary_adam_steps"] = (adversary?.Steps ?? 0).ToString(CultureInfo.InvariantCulture),
            ["history"] = History.ToCsv(history),
        });
    }

    /// <summary>Restores model, optimizer and RNG in place and returns the rest. Every problem names the file.</summary>
    public static CheckpointContents Load(string path, Autoencoder model, FlatAdam adam, Generator rng, FlatAdam? adversary = null)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new CorruptFileException(path, $"not a LatentLab checkpoint (format '{format}')");

        string Meta(string key) => meta.TryGetValue(key, out var value) ? value : throw new CorruptFileException(path, $"metadata '{key}' is missing");
        long Long(string key) => long.TryParse(Meta(key), CultureInfo.InvariantCulture, out var n) && n >= 0 ? n
            : throw new CorruptFileException(path, $"metadata '{key}' is not a non-negative integer");
        double Double(string key) => double.TryParse(Meta(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
            : throw new CorruptFileException(path, $"metadata '{key}' is not a number");
        SafeTensor Required(string name) => tensors.TryGetValue(name, out var t) ? t : throw new CorruptFileException(path, $"tensor '{name}' is missing");

        if (Meta("model") != model.Config.Name)
            throw new CorruptFileException(path, $"checkpoint is of model '{Meta("model")}', not '{model.Config.Name}'");
        var position = new TrainingPosition((int)Math.Min(Long("completed_epochs"), int.MaxValue), (int)Math.Min(Long("next_batch"), int.MaxValue),
            Double("loss_sum"), Long("images_seen"), Double("seconds_so_far"));
        var history = History.Parse(Meta("history"), path + " (history)");

        var m = Required("adam.m");
        var v = Required("adam.v");
        var state = Required("rng.state");
        if (m.Dtype != "F32" || v.Dtype != "F32" || state.Dtype != "U8")
            throw new CorruptFileException(path, "optimizer or RNG state has the wrong dtype");

        ModelFile.Load(model, tensors.Where(t => t.Key.StartsWith(ModelPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key, t => t.Value), path, ModelPrefix);
        using (var mt = m.ToTensor())
        using (var vt = v.ToTensor())
            adam.LoadState(mt, vt, Long("adam_steps"));
        if (adversary is not null)
        {
            var am = Required("adversary_adam.m");
            var av = Required("adversary_adam.v");
            if (am.Dtype != "F32" || av.Dtype != "F32") throw new CorruptFileException(path, "the adversary's optimizer state has the wrong dtype");
            using var amt = am.ToTensor();
            using var avt = av.ToTensor();
            adversary.LoadState(amt, avt, Long("adversary_adam_steps"));
        }
        CheckGeneratorState(path, state.Data);
        using (var st = state.ToTensor())
        {
            try { rng.set_state(st); }
            catch (Exception e) when (e is not LatentLabException) { throw new CorruptFileException(path, $"RNG state rejected by libtorch ({e.Message.Split('\n')[0]})"); }
        }

        Tensor? permutation = null;
        if (position.MidEpoch)
        {
            var p = Required("epoch.permutation");
            if (p.Dtype != "I64" || p.Shape.Length != 1) throw new CorruptFileException(path, "epoch.permutation must be a 1-d I64 tensor");
            permutation = p.ToTensor();
        }
        return new CheckpointContents(position, permutation, history);
    }

    /// <summary>libtorch answers an invalid generator state with a C++ exception that ends the process, so the state
    /// is checked here first, as CPUGeneratorImpl::set_state does: its size, then the mt19937 fields of the legacy
    /// layout (uint64 seed; int32 left at byte 8; int32 seeded at 12; uint64 next at 16): seeded, 0 &lt; left &lt;= 624,
    /// and next &lt;= 624.</summary>
    static void CheckGeneratorState(string path, byte[] state)
    {
        const int mersenneStateN = 624;
        using (var reference = new Generator(0))
        using (var expected = reference.get_state())
            if (state.Length != expected.numel())
                throw new CorruptFileException(path, $"RNG state has {state.Length} bytes, libtorch's has {expected.numel()}");
        int left = BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(8));
        int seeded = BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(12));
        uint next = (uint)BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(16));
        if (seeded == 0 || left is <= 0 or > mersenneStateN || next > mersenneStateN)
            throw new CorruptFileException(path, "RNG state is not a valid mt19937 state");
    }
}
