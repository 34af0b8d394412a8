using static TorchSharp.torch;

namespace LatentLab.Runtime;

/// <summary>Whether libtorch's bfloat16 transposed convolution is right on this machine's CPU: the check behind
/// <c>--precision auto</c>'s choice for conv models.</summary>
/// <remarks>Why a check: on an AMD EPYC of family 26 (Zen 5, avx512_bf16), libtorch 2.10's bfloat16 transposed
/// convolution with one output channel (the conv decoder's last layer; oneDNN's brgemm bf16 kernels) returns some
/// outputs off by 0.44-0.58 of the sum of their terms' magnitudes, where rounding allows 2^-9; and it is nondeterministic: the same call on
/// the same tensors returns different outputs from one call to the next, so a model's metrics after training and after a
/// reload disagree (docs/cpus.md). The probe: that layer's shape (32 channels in, 4 x 4 kernel, stride 2, 14 x 14 in),
/// inputs and weights already bfloat16 values, against the same sum in float64. The products of two bfloat16 values are
/// exact in float32 and libtorch accumulates them in float32 (2^-24 per addition, ~2^-17 over this layer's 128 terms),
/// so the error of size is the output's rounding to bfloat16: at most 2^-9 of the terms' summed magnitude. The bound,
/// 2^-8, allows twice that.</remarks>
public static class Bf16Convolution
{
    /// <summary>The largest error allowed, as a fraction of the sum of the terms' magnitudes.</summary>
    public const double Bound = 1.0 / 256;

    static double? _measured;

    /// <summary>The probe's largest error in bfloat16, as a fraction of its output's summed term magnitude; measured once
    /// per process (a few milliseconds).</summary>
    public static double LargestError() => _measured ??= LargestError(ScalarType.BFloat16);

    /// <summary>The probe's largest error with inputs, weights and outputs in <paramref name="type"/> (the inputs and
    /// weights are bfloat16 values whatever the type, so that every format sums the same terms).</summary>
    public static double LargestError(ScalarType type)
    {
        using var scope = NewDisposeScope();
        using var rng = new Generator(7);
        var f64 = ScalarType.Float64;
        var x = nn.functional.relu(randn([16, 32, 14, 14], generator: rng)).to(ScalarType.BFloat16).to(type);
        var w = (randn([32, 1, 4, 4], generator: rng) * 0.05).to(ScalarType.BFloat16).to(type);
        long[] strides = [2, 2], padding = [1, 1];
        var ours = nn.functional.conv_transpose2d(x, w, null, strides, padding).to(f64);
        var exact = nn.functional.conv_transpose2d(x.to(f64), w.to(f64), null, strides, padding);
        var magnitude = nn.functional.conv_transpose2d(x.to(f64).abs(), w.to(f64).abs(), null, strides, padding);
        return ((ours - exact).abs() / magnitude.clamp_min(1e-30)).max().item<double>();
    }

    /// <summary>Whether the probe's outputs are within rounding of the exact ones.</summary>
    public static bool IsRight() => LargestError() <= Bound;

    /// <summary>The fault in words, for the line a command prints and a skipped test's reason.</summary>
    public static string Fault() => Fault(LargestError());

    /// <summary>The fault in words, for a probe error of <paramref name="error"/>.</summary>
    public static string Fault(double error) =>
        $"libtorch's bfloat16 transposed convolution is wrong on this CPU ({Cpu.Current}): an output off by " +
        $"{error.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} of its terms' magnitude where rounding allows " +
        $"{Bound.ToString("0.0E+0", System.Globalization.CultureInfo.InvariantCulture)}";
}
