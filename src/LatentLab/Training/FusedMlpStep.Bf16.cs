using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LatentLab.Runtime;
using static TorchSharp.torch;

namespace LatentLab.Training;

public sealed partial class FusedMlpStep
{
    /// <summary>The passes between the products in mixed precision, over row-major [rows, columns] tensors whose
    /// activations and gradients are bfloat16: each reads bfloat16 widened to float32 (exact), computes in float32 what the
    /// twin computes in float32, and rounds what the twin holds in bfloat16 to nearest even. Bias gradients are the
    /// column sums of the rounded gradients, summed in float32 (in <c>sums</c>) and rounded once, as libtorch's sum over
    /// a bfloat16 tensor accumulates.</summary>
    internal static unsafe class Bf16Elementwise
    {
        static ushort* Bits(Tensor t) => (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
        static float* Floats(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

        /// <summary>bias[from..to) = the float32 sums there, rounded.</summary>
        static void RoundSums(float* sums, ushort* bias, int from, int to)
        {
            for (int j = from; j < to; j++) bias[j] = BFloat16Bits.Round(sums[j]);
        }

        /// <summary>As <see cref="Elementwise.Reparameterize"/> from the encoder's bfloat16 output; z rounded to bfloat16,
        /// as the twin casts the code for its decoder.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static double Reparameterize(Tensor output, Tensor eps, Tensor z)
        {
            ushort* o = Bits(output), zp = Bits(z);
            float* e = Floats(eps);
            int rows = (int)eps.shape[0], d = (int)eps.shape[1];
            double kl = 0;
            for (int r = 0; r < rows; r++)
            {
                ushort* mu = o + (long)r * 2 * d, logVar = mu + d;
                float rowKl = 0;
                for (int j = 0; j < d; j++)
                {
                    float m = BFloat16Bits.Widen(mu[j]), lv = BFloat16Bits.Widen(logVar[j]);
                    zp[(long)r * d + j] = BFloat16Bits.Round(m + e[(long)r * d + j] * MathF.Exp(lv * 0.5f));
                    rowKl += 0.5f * (m * m + MathF.Exp(lv) - lv - 1);
                }
                kl += rowKl;
            }
            return kl;
        }

        /// <summary>As <see cref="Elementwise.ReparameterizeBackward"/> from dL/dz in bfloat16; the encoder output's
        /// gradient rounded to bfloat16 (the twin's cast back of its float32 gradient), the bias's from the rounded values.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void ReparameterizeBackward(Tensor zGrad, Tensor output, Tensor eps, Tensor outputGrad, Tensor biasGrad, double klFactor, Tensor sums)
        {
            ushort* dz = Bits(zGrad), o = Bits(output), g = Bits(outputGrad), db = Bits(biasGrad);
            float* e = Floats(eps), s = Floats(sums);
            int rows = (int)eps.shape[0], d = (int)eps.shape[1];
            float w = (float)klFactor * (1f / rows);
            new Span<float>(s, 2 * d).Clear();
            for (int r = 0; r < rows; r++)
            {
                ushort* mu = o + (long)r * 2 * d, logVar = mu + d, gm = g + (long)r * 2 * d, gv = gm + d;
                for (int j = 0; j < d; j++)
                {
                    float dzj = BFloat16Bits.Widen(dz[(long)r * d + j]), m = BFloat16Bits.Widen(mu[j]), lv = BFloat16Bits.Widen(logVar[j]);
                    gm[j] = BFloat16Bits.Round(dzj + w * m);
                    gv[j] = BFloat16Bits.Round(dzj * e[(long)r * d + j] * (MathF.Exp(lv * 0.5f) * 0.5f) + w * 0.5f * (MathF.Exp(lv) - 1));
                    s[j] += BFloat16Bits.Widen(gm[j]);
                    s[d + j] += BFloat16Bits.Widen(gv[j]);
                }
            }
            RoundSums(s, db, 0, 2 * d);
        }

        /// <summary>The bias's gradient as the column sums of its layer's bfloat16 output gradient (an AE's last encoder layer).</summary>
        public static void ColumnSums(Tensor grad, Tensor biasGrad, Tensor sums)
        {
            ushort* g = Bits(grad), db = Bits(biasGrad);
            float* s = Floats(sums);
            int rows = (int)grad.shape[0], n = (int)grad.shape[1];
            new Span<float>(s, n).Clear();
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++) s[j] += BFloat16Bits.Widen(g[(long)r * n + j]);
            RoundSums(s, db, 0, n);
        }

        /// <summary>The Bernoulli negative log-likelihood of the bfloat16 logits (the last bias already in them, as the
        /// twin's last layer adds it) summed over the batch (returned, float64); its gradient (sigmoid(l) - x) / B rounded
        /// to bfloat16 into <paramref name="logitsGrad"/>, and the rounded gradient's column sums into
        /// <paramref name="biasGrad"/>: one pass over the [B, P] logits, by columns on libtorch's threads.</summary>
        public static double BernoulliLoss(Tensor logits, Tensor x, Tensor logitsGrad, Tensor biasGrad, Tensor sums)
        {
            ushort* l = Bits(logits), g = Bits(logitsGrad), db = Bits(biasGrad);
            float* xp = Floats(x), s = Floats(sums);
            int rows = (int)logits.shape[0], n = (int)logits.shape[1];
            var partSums = new double[Math.Max(1, get_num_threads())];
            Elementwise.ByColumns(n, (part, from, to) =>
            {
                new Span<float>(s + from, to - from).Clear();
                float scale = 1f / rows;
                double sum = 0;
                for (int r = 0; r < rows; r++)
                {
                    long offset = (long)r * n + from;
                    sum += BernoulliRow(l + offset, xp + offset, g + offset, s + from, to - from, scale);
                }
                RoundSums(s, db, from, to);
                partSums[part] = sum;
            });
            double total = 0;
            foreach (double sum in partSums) total += sum;
            return total;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static double BernoulliRow(ushort* l, float* x, ushort* g, float* column, int n, float scale)
        {
            var lossSum = Vector<float>.Zero;
            var scaleV = new Vector<float>(scale);
            int half = Vector<float>.Count, j = 0;
            for (; j <= n - Vector<ushort>.Count; j += Vector<ushort>.Count)
            {
                Vector.Widen(Vector.Load(l + j), out var low, out var high);
                var first = Gradient(BFloat16Bits.Widen(low), Vector.Load(x + j), scaleV, ref lossSum);
                var second = Gradient(BFloat16Bits.Widen(high), Vector.Load(x + j + half), scaleV, ref lossSum);
                Vector.Narrow(first, second).Store(g + j);
                (Vector.Load(column + j) + BFloat16Bits.Widen(first)).Store(column + j);
                (Vector.Load(column + j + half) + BFloat16Bits.Widen(second)).Store(column + j + half);
            }
            float tail = 0;
            for (; j < n; j++)
            {
                float logit = BFloat16Bits.Widen(l[j]), target = x[j];
                float e = MathF.Exp(-MathF.Abs(logit));
                tail += MathF.Max(logit, 0) + MathF.Log(1 + e) - target * logit;
                g[j] = BFloat16Bits.Round(((logit >= 0 ? 1 : e) / (1 + e) - target) * scale);
                column[j] += BFloat16Bits.Widen(g[j]);
            }
            return Vector.Sum(lossSum) + tail;
        }

        /// <summary>softplus(l) - x l added to <paramref name="lossSum"/>; returns (sigmoid(l) - x) scale as bfloat16 bits,
        /// with e = exp(-|l|) for both, as <see cref="Elementwise"/>'s float32 pass computes them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector<uint> Gradient(Vector<float> logit, Vector<float> target, Vector<float> scale, ref Vector<float> lossSum)
        {
            var e = VectorMath.ExpOfNegative(-Vector.Abs(logit));
            lossSum += Vector.Max(logit, Vector<float>.Zero) + VectorMath.Log1pOfUnit(e) - target * logit;
            var sigmoid = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(logit, Vector<float>.Zero), Vector<float>.One, e) / (Vector<float>.One + e);
            return BFloat16Bits.Round((sigmoid - target) * scale);
        }

        /// <summary>dh = dh where h &gt; 0, else 0 (ReLU's backward, h its bfloat16 output; exact); the bias's gradient
        /// as dh's column sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void ReluBackward(Tensor dh, Tensor h, Tensor biasGrad, Tensor sums)
        {
            ushort* g = Bits(dh), hp = Bits(h), db = Bits(biasGrad);
            float* s = Floats(sums);
            int rows = (int)dh.shape[0], n = (int)dh.shape[1], half = Vector<float>.Count;
            new Span<float>(s, n).Clear();
            for (int r = 0; r < rows; r++)
            {
                ushort* gr = g + (long)r * n, hr = hp + (long)r * n;
                int j = 0;
                for (; j <= n - Vector<ushort>.Count; j += Vector<ushort>.Count)
                {
                    Vector.Widen(Vector.Load(hr + j), out var low, out var high);
                    var firing = Vector.Narrow(
                        Vector.AsVectorUInt32(Vector.GreaterThan(BFloat16Bits.Widen(low), Vector<float>.Zero)),
                        Vector.AsVectorUInt32(Vector.GreaterThan(BFloat16Bits.Widen(high), Vector<float>.Zero)));
                    var masked = Vector.Load(gr + j) & firing;
                    masked.Store(gr + j);
                    Vector.Widen(masked, out var maskedLow, out var maskedHigh);
                    (Vector.Load(s + j) + BFloat16Bits.Widen(maskedLow)).Store(s + j);
                    (Vector.Load(s + j + half) + BFloat16Bits.Widen(maskedHigh)).Store(s + j + half);
                }
                for (; j < n; j++)
                {
                    ushort masked = BFloat16Bits.Widen(hr[j]) > 0 ? gr[j] : (ushort)0;
                    gr[j] = masked;
                    s[j] += BFloat16Bits.Widen(masked);
                }
            }
            RoundSums(s, db, 0, n);
        }
    }
}
