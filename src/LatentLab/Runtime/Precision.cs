using static TorchSharp.torch;

namespace LatentLab.Runtime;

/// <summary>The number format of a model's matrix products (linear and convolution layers, forward and backward).
/// Master weights, Adam's state, losses, reductions and every metric stay in float32 either way.</summary>
public enum Precision { Fp32, Bf16 }

/// <summary>What <c>--precision</c> asks for: a format, or <see cref="Auto"/> for bfloat16 where the CPU multiplies
/// it natively and float32 elsewhere.</summary>
public enum PrecisionChoice { Fp32, Bf16, Auto }

/// <summary>Resolves <c>--precision</c> against the CPU. Why: bfloat16 products are 3-4x float32's rate on a CPU with
/// AVX-512 BF16 or AMX, but emulated (slower than float32) on one without, so <c>auto</c> must know which it is.</summary>
public static class Precisions
{
    /// <summary>The CPU flags (as /proc/cpuinfo's "flags" line spells them) that mean native bfloat16 products.</summary>
    public static readonly IReadOnlyList<string> NativeBf16Flags = ["avx512_bf16", "amx_bf16"];

    /// <summary>The flags of this machine's CPU: the first "flags" line of /proc/cpuinfo; empty where there is none.</summary>
    public static IReadOnlySet<string> CpuFlags()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return new HashSet<string>();
        var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        return line is null ? new HashSet<string>() : line.Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
    }

    /// <summary>Whether a CPU with these flags multiplies bfloat16 natively.</summary>
    public static bool HasNativeBf16(IReadOnlySet<string> flags) => NativeBf16Flags.Any(flags.Contains);

    /// <summary>How much faster than float32 bfloat16 must multiply for <c>auto</c> to choose it.</summary>
    public const double AutoSpeedup = 1.25;

    /// <summary>The precision <paramref name="choice"/> means on a CPU with <paramref name="flags"/> (this machine's
    /// when null) whose bfloat16 products run <paramref name="bf16Speedup"/>() times as fast as float32's (measured on
    /// this machine when null, and only when the flags are there).</summary>
    /// <remarks>Why measure as well: the flag says the instructions exist, not that they are fast. On an AMD EPYC with
    /// AVX-512 BF16, libtorch's bfloat16 products run at 4x float32's rate; on an Intel Xeon with the same flag and no
    /// AMX, oneDNN's bfloat16 kernel runs at half of it (bench/README.md), and bf16 there only costs accuracy.</remarks>
    public static Precision Resolve(PrecisionChoice choice, IReadOnlySet<string>? flags = null, Func<double>? bf16Speedup = null) =>
        Choose(choice, flags, bf16Speedup).Precision;

    /// <summary>As <see cref="Resolve"/>, with the reason in words for the line a command prints ("auto: bfloat16
    /// products 2.9x float32's on this CPU").</summary>
    public static (Precision Precision, string Reason) Choose(PrecisionChoice choice, IReadOnlySet<string>? flags = null, Func<double>? bf16Speedup = null)
    {
        switch (choice)
        {
            case PrecisionChoice.Fp32: return (Precision.Fp32, "asked for");
            case PrecisionChoice.Bf16: return (Precision.Bf16, "asked for");
            case PrecisionChoice.Auto:
                if (!HasNativeBf16(flags ?? CpuFlags()))
                    return (Precision.Fp32, $"auto: this CPU has no bfloat16 instructions ({string.Join(", ", NativeBf16Flags)})");
                double speedup = (bf16Speedup ?? MeasuredBf16Speedup)();
                string rate = $"bfloat16 products {speedup.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}x float32's on this CPU";
                return speedup >= AutoSpeedup ? (Precision.Bf16, $"auto: {rate}")
                    : (Precision.Fp32, $"auto: {rate}, under the {AutoSpeedup.ToString(System.Globalization.CultureInfo.InvariantCulture)}x that pays for their rounding");
            default: throw new ArgumentOutOfRangeException(nameof(choice));
        }
    }

    static double? _measured;

    /// <summary>As <see cref="Choose(PrecisionChoice, IReadOnlySet{string}?, Func{double}?)"/>, for a model with
    /// convolution layers or without: where libtorch's bfloat16 transposed convolution is wrong on this CPU
    /// (<see cref="Bf16Convolution"/>), auto takes float32 for a conv model, and bf16 asked for is kept with the fault
    /// named in the reason. <paramref name="convolutionError"/> replaces the probe (measured only for a conv model that
    /// would otherwise compute in bfloat16).</summary>
    public static (Precision Precision, string Reason) Choose(PrecisionChoice choice, bool convolutional, IReadOnlySet<string>? flags = null,
        Func<double>? bf16Speedup = null, Func<double>? convolutionError = null)
    {
        var (precision, reason) = Choose(choice, flags, bf16Speedup);
        if (!convolutional || precision != Precision.Bf16) return (precision, reason);
        double error = (convolutionError ?? Bf16Convolution.LargestError)();
        if (error <= Bf16Convolution.Bound) return (precision, reason);
        return choice == PrecisionChoice.Auto
            ? (Precision.Fp32, $"auto: {Bf16Convolution.Fault(error)}; a conv model computes in float32 here")
            : (Precision.Bf16, $"asked for; warning: {Bf16Convolution.Fault(error)}, so a conv model's bfloat16 outputs are wrong here");
    }

    /// <summary>bfloat16's product rate over float32's on this machine, for a 128 x 784 by 784 x 512 product (the
    /// presets' largest layer at batch 128): after warm-up, 9 rounds of 10 products in each format, the formats
    /// alternating round by round, and the best round of each; about 100 ms, measured once per process.</summary>
    /// <remarks>Alternating rounds and taking the best of each is what makes the ratio hold on a busy machine (tests
    /// running beside it, another job): a burst of other work slows a few rounds of both formats, not all rounds of one,
    /// and the best round of each is one the burst missed. Measured in blocks (all float32 rounds, then all bfloat16
    /// rounds), a busy AMD EPYC once gave 116x for its real 2.6-4x.</remarks>
    public static double MeasuredBf16Speedup()
    {
        if (_measured is { } known) return known;
        using var scope = NewDisposeScope();
        var a32 = ones(128, 784);
        var b32 = ones(784, 512);
        var a16 = a32.to(TorchSharp.torch.ScalarType.BFloat16);
        var b16 = b32.to(TorchSharp.torch.ScalarType.BFloat16);
        double Round(Tensor a, Tensor b)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 10; i++) a.mm(b).Dispose();
            return clock.Elapsed.TotalSeconds;
        }
        Round(a32, b32);
        Round(a16, b16);
        double best32 = double.MaxValue, best16 = double.MaxValue;
        for (int round = 0; round < 9; round++)
        {
            best32 = Math.Min(best32, Round(a32, b32));
            best16 = Math.Min(best16, Round(a16, b16));
        }
        double speedup = best32 / best16;
        _measured = speedup;
        return speedup;
    }

    /// <summary>The tensor type of the products.</summary>
    public static ScalarType ScalarType(this Precision precision) =>
        precision == Precision.Bf16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32;

    /// <summary>"fp32" or "bf16", as the option, config.json and the report write it.</summary>
    public static string Name(this Precision precision) => precision == Precision.Bf16 ? "bf16" : "fp32";

    public static PrecisionChoice ParseChoice(string text) => text.ToLowerInvariant() switch
    {
        "fp32" or "float32" => PrecisionChoice.Fp32,
        "bf16" or "bfloat16" => PrecisionChoice.Bf16,
        "auto" => PrecisionChoice.Auto,
        _ => throw new LatentLabException($"--precision must be fp32, bf16 or auto, got '{text}'"),
    };
}
