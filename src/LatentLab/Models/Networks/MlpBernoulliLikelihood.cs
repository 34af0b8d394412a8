using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LatentLab.Runtime;
using static TorchSharp.torch;

namespace LatentLab.Models.Networks;

/// <summary>log p(x|z) of an MLP decoder's Bernoulli likelihood for many codes, without autograd: the decoder's
/// products into buffers kept between calls (libtorch's <c>addmm_</c>), each bias and ReLU in one pass, and the last
/// bias, the logits' softplus and their product with the image in one pass per row, on libtorch's own threads
/// (<see cref="OmpTeam"/>). What the importance-weighted estimate (k = 1000 or 5000 codes per image) spends its time on.</summary>
/// <remarks>
/// Why: through the modules and <see cref="Likelihood.LogBernoulli"/>, each chunk of 2,048 decoded images also copies
/// each bias into its output before the product, makes a tensor per ReLU, and passes over the [2048, 784] logits four
/// times (product with the image, its sum, softplus, its sum), with a fresh tensor of 6 MB for two of them: measured on
/// the Intel Xeon (2026-12-06), the bench's IWAE k = 1000 on 10,000 images took 52.5-53 s of which the decoder's
/// products were 36 s.
///
/// The same arithmetic in float32, except the order of each image's sum over pixels (vector lanes here, libtorch's
/// own reduction there) and softplus(l) = max(l, 0) + log1p(exp(-|l|)) through <see cref="VectorMath"/> (within a few
/// ulp): the values agree with the modules' to float32 rounding of the sum (MlpBernoulliLikelihoodTests holds them to
/// the bound).
///
/// A bfloat16 twin (<see cref="Autoencoder.Twin"/>, a bf16 evaluation) decodes as its modules do: the codes rounded to
/// bfloat16, each layer's bias copied into its output and the product added to it (libtorch's linear, one rounding),
/// ReLU in place, and the bfloat16 logits, bias included, widened into the same float32 pass.
/// </remarks>
public static unsafe class MlpBernoulliLikelihood
{
    /// <summary>Whether <see cref="LogLikelihood"/> computes <paramref name="model"/>'s log p(x|z) now: an MLP decoder
    /// in float32 or bfloat16 with the Bernoulli likelihood, reading the whole code (one latent layer), and no gradient
    /// wanted.</summary>
    public static bool Applies(Autoencoder model) =>
        !is_grad_enabled() && model.Config.Arch == Architecture.Mlp && model.ComputeType is ScalarType.Float32 or ScalarType.BFloat16
        && model.Config.Recon == ReconstructionLoss.Bce && model.Config.TopLatentDim == 0 && model.Config.Activation == Activation.Relu;

    /// <summary>The decoder's layers (weight [out, in], bias [out]) in order.</summary>
    static List<(Tensor Weight, Tensor Bias)> Layers(Autoencoder model)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        return LayerChain.Positions(parameters.Keys, "decoder.")
            .Select(i => (parameters[$"decoder.{i}.weight"], parameters[$"decoder.{i}.bias"])).ToList();
    }

    /// <summary>Buffers of one thread's last call, reused while the shapes repeat (a likelihood estimate's chunks): fresh
    /// tensors of megabytes are mapped and unmapped by malloc each time, and the page faults cost more than the passes.</summary>
    [ThreadStatic] static List<Tensor>? t_buffers;

    static Tensor[] Buffers(long rows, IReadOnlyList<int> widths, ScalarType type)
    {
        var buffers = t_buffers;
        if (buffers is null || buffers.Count != widths.Count || buffers[0].dtype != type
            || buffers.Zip(widths).Any(b => b.First.shape[0] != rows || b.First.shape[1] != b.Second))
        {
            if (buffers is not null) foreach (var b in buffers) b.Dispose();
            buffers = widths.Select(w => empty(rows, w, type).DetachFromDisposeScope()).ToList();
            t_buffers = buffers;
        }
        return [.. buffers];
    }

    /// <summary>log p(x_i | z_r) for codes <paramref name="z"/> [R, d] whose image is row r mod B of
    /// <paramref name="flatImages"/> [B, P] (R = k B, the k draws of each image one after another, as
    /// <see cref="Autoencoder.LogWeights"/> lays them out): [R] float32, nats.</summary>
    public static Tensor LogLikelihood(Autoencoder model, Tensor z, Tensor flatImages)
    {
        if (!Applies(model)) throw new InvalidOperationException($"{model.Config.Name}: the fused likelihood does not apply");
        var layers = Layers(model);
        long rows = z.shape[0], images = flatImages.shape[0];
        int pixels = (int)flatImages.shape[1];
        if (rows % images != 0) throw new ArgumentException($"{rows} codes for {images} images: not a whole number of draws per image");
        if (layers[^1].Weight.shape[0] != pixels) throw new ArgumentException($"images of {pixels} values, the decoder makes {layers[^1].Weight.shape[0]}");
        using var scope = NewDisposeScope();
        bool bf16 = model.ComputeType == ScalarType.BFloat16;
        var input = bf16 ? z.to(ScalarType.BFloat16).contiguous() : z.contiguous();
        var x = flatImages.to(ScalarType.Float32).contiguous();
        var hidden = Buffers(rows, layers.Select(l => (int)l.Weight.shape[0]).ToList(), model.ComputeType);
        for (int i = 0; i < layers.Count; i++)
        {
            // In place (addmm_, copy_, relu_): the same Tensor objects, not disposed here.
            using var weight = layers[i].Weight.t();
            if (bf16)
            {
                hidden[i].copy_(layers[i].Bias);
                hidden[i].addmm_(input, weight, beta: 1, alpha: 1);
                if (i < layers.Count - 1) hidden[i].relu_();
            }
            else
            {
                hidden[i].addmm_(input, weight, beta: 0, alpha: 1);
                if (i < layers.Count - 1) AddBiasRelu(hidden[i], layers[i].Bias);
            }
            input = hidden[i];
        }
        var result = empty(rows);
        if (bf16) LogBernoulliRowsBf16(hidden[^1], x, result);
        else LogBernoulliRows(hidden[^1], layers[^1].Bias, x, result);
        return result.MoveToOuterDisposeScope();
    }

    static float* At(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    /// <summary>Runs body(first row, end row) over row ranges on libtorch's threads.</summary>
    static void ByRows(long rows, Action<long, long> body) =>
        OmpTeam.Run((part, parts) => body(rows * part / parts, rows * (part + 1) / parts), maxParts: (int)Math.Max(1, rows / 16));

    /// <summary>h = max(h + bias, 0).</summary>
    static void AddBiasRelu(Tensor h, Tensor bias)
    {
        float* hp = At(h), bp = At(bias);
        int n = (int)h.shape[1];
        ByRows(h.shape[0], (from, to) => AddBiasRelu(hp, bp, n, from, to));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddBiasRelu(float* hp, float* bp, int n, long from, long to)
    {
        for (long r = from; r < to; r++)
        {
            float* row = hp + r * n;
            int j = 0;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
                Vector.Max(Vector.Load(row + j) + Vector.Load(bp + j), Vector<float>.Zero).Store(row + j);
            for (; j < n; j++) row[j] = MathF.Max(row[j] + bp[j], 0);
        }
    }

    /// <summary>result[r] = sum_j x_ij l_rj - softplus(l_rj), l = the product + the bias, i = r mod B.</summary>
    static void LogBernoulliRows(Tensor product, Tensor bias, Tensor x, Tensor result)
    {
        float* l = At(product), bp = At(bias), xp = At(x), rp = At(result);
        int n = (int)product.shape[1];
        long images = x.shape[0];
        ByRows(product.shape[0], (from, to) => LogBernoulliRows(l, bp, xp, rp, n, images, from, to));
    }

    /// <summary>As <see cref="LogBernoulliRows(Tensor, Tensor, Tensor, Tensor)"/> for bfloat16 logits whose bias is in
    /// them: each row widened into a float32 row of the thread's own (exact), then the same pass with a zero bias.</summary>
    static void LogBernoulliRowsBf16(Tensor logits, Tensor x, Tensor result)
    {
        ushort* l = (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(logits.bytes));
        float* xp = At(x), rp = At(result);
        int n = (int)logits.shape[1];
        long images = x.shape[0];
        ByRows(logits.shape[0], (from, to) =>
        {
            var scratch = new float[2 * n];   // a widened row, then n zeros for the bias
            fixed (float* row = scratch)
                for (long r = from; r < to; r++)
                {
                    ushort* source = l + r * n;
                    int j = 0;
                    for (; j <= n - Vector<ushort>.Count; j += Vector<ushort>.Count)
                    {
                        Vector.Widen(Vector.Load(source + j), out var low, out var high);
                        BFloat16Bits.Widen(low).Store(row + j);
                        BFloat16Bits.Widen(high).Store(row + j + Vector<float>.Count);
                    }
                    for (; j < n; j++) row[j] = BFloat16Bits.Widen(source[j]);
                    rp[r] = LogBernoulliRow(row, row + n, xp + r % images * n, n);
                }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void LogBernoulliRows(float* l, float* bp, float* xp, float* rp, int n, long images, long from, long to)
    {
        for (long r = from; r < to; r++) rp[r] = LogBernoulliRow(l + r * n, bp, xp + r % images * n, n);
    }

    /// <summary>sum_j x_j l_j - softplus(l_j), l = row + bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float LogBernoulliRow(float* row, float* bp, float* image, int n)
    {
        var sum = Vector<float>.Zero;
        float wide = 0;
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // 16 lanes where the CPU has them (Vector<float> is 8 wide by default even there): the pass is arithmetic-bound.
            var sum512 = Vector512<float>.Zero;
            for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                var logit = Vector512.Load(row + j) + Vector512.Load(bp + j);
                var softplus = Vector512.Max(logit, Vector512<float>.Zero) + VectorMath.Log1pOfUnit(VectorMath.ExpOfNegative(-Vector512.Abs(logit)));
                sum512 += Vector512.FusedMultiplyAdd(Vector512.Load(image + j), logit, -softplus);
            }
            wide = Vector512.Sum(sum512);
        }
        for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
        {
            var logit = Vector.Load(row + j) + Vector.Load(bp + j);
            var softplus = Vector.Max(logit, Vector<float>.Zero) + VectorMath.Log1pOfUnit(VectorMath.ExpOfNegative(-Vector.Abs(logit)));
            sum += Vector.FusedMultiplyAdd(Vector.Load(image + j), logit, -softplus);
        }
        float tail = 0;
        for (; j < n; j++)
        {
            float logit = row[j] + bp[j];
            tail += image[j] * logit - (MathF.Max(logit, 0) + MathF.Log(1 + MathF.Exp(-MathF.Abs(logit))));
        }
        return wide + Vector.Sum(sum) + tail;
    }
}
