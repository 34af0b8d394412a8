namespace LatentLab.Runtime;

/// <summary>Which CPU a figure came from: its model name and the flags that change what libtorch computes fastest.</summary>
/// <remarks>Why it is recorded: this project's machines are drawn, not chosen (an AMD EPYC or an Intel Xeon, docs/cpus.md),
/// and the two differ in bfloat16's speed (4x float32's against 0.5x) and in the kernels libtorch picks, so a time or a
/// loss in the 7th digit means little without the CPU beside it.</remarks>
/// <param name="Model">/proc/cpuinfo's "model name", e.g. "AMD EPYC"; "unknown CPU" where there is none.</param>
/// <param name="Flags">Those of <see cref="Cpu.RecordedFlags"/> the CPU has, in that order.</param>
public sealed record CpuInfo(string Model, IReadOnlyList<string> Flags)
{
    /// <summary>"AMD EPYC (avx512_bf16)", or "Intel Xeon (no bfloat16 flags)".</summary>
    public override string ToString() => $"{Model} ({(Flags.Count == 0 ? "no bfloat16 flags" : string.Join(", ", Flags))})";

    public bool Equals(CpuInfo? other) => other is not null && Model == other.Model && Flags.SequenceEqual(other.Flags);
    public override int GetHashCode() => Model.GetHashCode();
}

/// <summary>Reads this machine's <see cref="CpuInfo"/>.</summary>
public static class Cpu
{
    /// <summary>The flags worth recording: AVX-512 (libtorch's widest float32 kernels) and the two that give native
    /// bfloat16 products (<see cref="Precisions.NativeBf16Flags"/>).</summary>
    public static readonly IReadOnlyList<string> RecordedFlags = ["avx512f", "avx512_bf16", "amx_bf16", "amx_tile"];

    static CpuInfo? _current;

    /// <summary>This machine's CPU, read once per process from /proc/cpuinfo.</summary>
    public static CpuInfo Current => _current ??= Read("/proc/cpuinfo");

    /// <summary>The CPU described by a /proc/cpuinfo-style file (the first "model name" and "flags" lines).</summary>
    public static CpuInfo Read(string cpuinfo)
    {
        if (!File.Exists(cpuinfo)) return new CpuInfo("unknown CPU", []);
        string? model = null, flags = null;
        foreach (var line in File.ReadLines(cpuinfo))
        {
            if (model is null && line.StartsWith("model name", StringComparison.Ordinal)) model = line.Split(':', 2)[1].Trim();
            else if (flags is null && line.StartsWith("flags", StringComparison.Ordinal)) flags = line.Split(':', 2)[1];
            if (model is not null && flags is not null) break;
        }
        var present = (flags ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        return new CpuInfo(model ?? "unknown CPU", RecordedFlags.Where(present.Contains).ToArray());
    }
}
