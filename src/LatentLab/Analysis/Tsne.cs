using static TorchSharp.torch;

namespace LatentLab.Analysis;

/// <summary>Settings of <see cref="Tsne"/>; the defaults are scikit-learn's (TSNE(method="exact", init="pca")).</summary>
public sealed record TsneOptions(double Perplexity = 30, int Iterations = 1000, double EarlyExaggeration = 12,
    int ExaggerationIterations = 250, double MinGain = 0.01);

/// <summary>The result: coordinates [N, 2] (float64) and the final KL(P || Q) of the embedding.</summary>
public sealed record TsneResult(Tensor Embedding, double KlDivergence) : IDisposable
{
    public void Dispose() => Embedding.Dispose();
}

/// <summary>Exact t-SNE (van der Maaten &amp; Hinton 2008) into two dimensions, for a few thousand points.</summary>
/// <remarks>As scikit-learn's exact method: squared Euclidean input distances; per-point Gaussian precisions found
/// by bisection so that each conditional distribution has the requested perplexity; P symmetrised; Student-t
/// similarities in the embedding; gradient descent with momentum 0.5 then 0.8, per-coordinate gains and early
/// exaggeration; learning rate max(N / exaggeration / 4, 50); PCA initialisation scaled to a standard deviation of
/// 1e-4. Deterministic: nothing is random. Cost per iteration is two passes over the N x N pairs (<see cref="TsnePairs"/>).</remarks>
public static class Tsne
{
    public static TsneResult Embed(Tensor points, TsneOptions? options = null, IProgress<int>? progress = null)
    {
        options ??= new TsneOptions();
        long n = points.shape[0];
        if (points.dim() != 2 || n < 4) throw new ArgumentException("t-SNE needs at least four points as rows of a matrix");
        if (options.Perplexity <= 0 || options.Perplexity >= n) throw new ArgumentOutOfRangeException(nameof(options), "perplexity must be between 0 and the number of points");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();

        var x = points.to(ScalarType.Float64);
        var p = JointProbabilities(x, options.Perplexity);

        Tensor y;
        using (var pca = Pca.Fit(x, 2))
        {
            var initial = pca.Transform(x);
            y = (initial / initial[.., 0].std() * 1e-4).contiguous();
        }
        double learningRate = Math.Max(n / options.EarlyExaggeration / 4, 50);
        // The descent runs on plain arrays: the gradient is one fused pass over the pairs per iteration
        // (TsnePairs.Gradient), computed from the coordinates as it goes instead of from N x N temporaries.
        var pairs = new TsnePairs(p.data<double>().ToArray(), (int)n);
        var coordinates = y.data<double>().ToArray();                      // [N, 2] row-major
        var update = new double[coordinates.Length];
        var gains = new double[coordinates.Length];
        Array.Fill(gains, 1.0);
        var gradient = new double[coordinates.Length];

        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            bool early = iteration < options.ExaggerationIterations;
            double momentum = early ? 0.5 : 0.8;
            pairs.Gradient(coordinates, early ? options.EarlyExaggeration : 1, gradient);
            for (int i = 0; i < coordinates.Length; i++)
            {
                // Gains grow where the gradient keeps its direction against the last update and shrink where it flips.
                gains[i] = Math.Max(update[i] * gradient[i] < 0 ? gains[i] + 0.2 : gains[i] * 0.8, options.MinGain);
                update[i] = update[i] * momentum - learningRate * (gradient[i] * gains[i]);
                coordinates[i] += update[i];
            }
            if ((iteration + 1) % 50 == 0) progress?.Report(iteration + 1);
        }
        double kl = pairs.Kl(coordinates);
        var embedding = tensor(coordinates, [n, 2]);
        return new TsneResult(embedding.MoveToOuterDisposeScope(), kl);
    }

    /// <summary>Symmetrised joint probabilities P = (P_j|i + P_i|j) / 2N, each conditional P_.|i at the perplexity.</summary>
    internal static Tensor JointProbabilities(Tensor x, double perplexity)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var squares = x.square().sum(1);
        var distances = x.mm(x.t()).mul_(-2).add_(squares.unsqueeze(1)).add_(squares.unsqueeze(0)).clamp_min_(0);
        var conditional = ConditionalProbabilities(distances, Math.Log(perplexity));
        var joint = (conditional + conditional.t()) / (2.0 * n);
        return joint.clamp_min_(1e-12).MoveToOuterDisposeScope();
    }

    /// <summary>Row i: exp(-beta_i d_ij) normalised over j != i, with beta_i bisected (all rows at once) until the
    /// row's entropy is log(perplexity) within 1e-5 nats, as scikit-learn's _binary_search_perplexity.</summary>
    static Tensor ConditionalProbabilities(Tensor distances, double entropyWanted)
    {
        long n = distances.shape[0];
        // Shifting each row by its smallest off-diagonal distance changes no probability and keeps exp() in range.
        var offDiagonal = ones(n, n, dtype: ScalarType.Bool);
        offDiagonal.diagonal().fill_(false);
        var shifted = distances - where(offDiagonal, distances, double.PositiveInfinity).amin([1], keepdim: true);
        shifted = where(offDiagonal, shifted, 0.0);
        var beta = ones(n, 1, dtype: ScalarType.Float64);
        var low = full(n, 1, double.NegativeInfinity, dtype: ScalarType.Float64);
        var high = full(n, 1, double.PositiveInfinity, dtype: ScalarType.Float64);
        Tensor? probabilities = null;
        for (int step = 0; step < 100; step++)
        {
            using var inner = NewDisposeScope();
            var unnormalised = (-shifted * beta).exp_().mul_(offDiagonal);
            var sum = unnormalised.sum(1, keepdim: true).clamp_min_(1e-300);
            probabilities?.Dispose();
            probabilities = (unnormalised / sum).MoveToOuterDisposeScope();
            var entropy = sum.log() + beta * (shifted * probabilities).sum(1, keepdim: true);
            var error = entropy - entropyWanted;
            if (error.abs().max().item<double>() <= 1e-5) break;
            var tooFlat = error.gt(0);                     // entropy too high: sharpen (raise beta)
            low = where(tooFlat, beta, low).MoveToOuterDisposeScope();
            high = where(tooFlat, high, beta).MoveToOuterDisposeScope();
            beta = where(tooFlat,
                    where(high.isinf(), beta * 2, (beta + high) / 2),
                    where(low.isinf(), beta / 2, (beta + low) / 2)).MoveToOuterDisposeScope();
        }
        return probabilities!;
    }
}

/// <summary>t-SNE's pair terms for N points in two dimensions: P (N x N, float64, row-major) and, from the coordinates,
/// the Student-t similarities num_ij = 1 / (1 + |y_i - y_j|^2), never stored.</summary>
/// <remarks>The gradient is two passes over the pairs: Z = sum over i != j of num_ij, then for each i
/// 4 sum_j (a p_ij - num_ij / Z) num_ij (y_i - y_j), a the exaggeration; vectorised over j, rows in fixed blocks over
/// the cores with Z's partial sums added in block order, so the result does not depend on the number of cores. The
/// libtorch form it replaced made about ten passes over N x N temporaries an iteration (13 s of a 2,000-point
/// embedding's 1,000 iterations). Float64, as scikit-learn: the PCA start is scaled to a standard deviation of 1e-4, where
/// 1 / (1 + |y_i - y_j|^2) is exactly 1 in float32, so float32 loses the repulsion that spreads the points; an exact
/// float32 gradient left a 2,000-point embedding collapsed at 1e-6 for good (the float32 matrix form escaped it only
/// through its rounding noise).</remarks>
internal sealed class TsnePairs(double[] p, int n)
{
    const int RowsPerBlock = 32;

    /// <summary>Writes the KL gradient for <paramref name="y"/> ([N, 2] row-major) into <paramref name="gradient"/>.</summary>
    public void Gradient(double[] y, double exaggeration, double[] gradient)
    {
        var (xs, ys) = Split(y);
        double z = SumOfSimilarities(xs, ys);
        double inverseZ = 1 / z;
        int blocks = (n + RowsPerBlock - 1) / RowsPerBlock;
        Parallel.For(0, blocks, block =>
        {
            for (int i = block * RowsPerBlock; i < Math.Min(n, (block + 1) * RowsPerBlock); i++)
            {
                var row = new ReadOnlySpan<double>(p, i * n, n);
                double xi = xs[i], yi = ys[i];
                var vxi = new System.Numerics.Vector<double>(xi);
                var vyi = new System.Numerics.Vector<double>(yi);
                var va = new System.Numerics.Vector<double>(exaggeration);
                var vInverseZ = new System.Numerics.Vector<double>(inverseZ);
                var gx = System.Numerics.Vector<double>.Zero;
                var gy = System.Numerics.Vector<double>.Zero;
                int width = System.Numerics.Vector<double>.Count, j = 0;
                for (; j + width <= n; j += width)
                {
                    var dx = vxi - new System.Numerics.Vector<double>(xs, j);
                    var dy = vyi - new System.Numerics.Vector<double>(ys, j);
                    var num = System.Numerics.Vector<double>.One / (System.Numerics.Vector<double>.One + dx * dx + dy * dy);
                    var w = (va * new System.Numerics.Vector<double>(row.Slice(j, width)) - num * vInverseZ) * num;
                    gx += w * dx;
                    gy += w * dy;
                }
                double sx = System.Numerics.Vector.Sum(gx), sy = System.Numerics.Vector.Sum(gy);
                for (; j < n; j++)
                {
                    double dx = xi - xs[j], dy = yi - ys[j];
                    double num = 1 / (1 + dx * dx + dy * dy);
                    double w = (exaggeration * row[j] - num * inverseZ) * num;
                    sx += w * dx;
                    sy += w * dy;
                }
                // j = i adds nothing: y_i - y_i = 0.
                gradient[2 * i] = 4 * sx;
                gradient[2 * i + 1] = 4 * sy;
            }
        });
    }

    /// <summary>KL(P || Q) with q_ij = num_ij / Z, both clamped at 1e-12 as before.</summary>
    public double Kl(double[] y)
    {
        var (xs, ys) = Split(y);
        double z = SumOfSimilarities(xs, ys), kl = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double dx = xs[i] - xs[j], dy = ys[i] - ys[j];
                double q = Math.Max(1 / (1 + dx * dx + dy * dy) / z, 1e-12), pij = Math.Max(p[i * n + j], 1e-12);
                kl += pij * Math.Log(pij / q);
            }
        return kl;
    }

    (double[] Xs, double[] Ys) Split(double[] y)
    {
        var xs = new double[n];
        var ys = new double[n];
        for (int i = 0; i < n; i++) (xs[i], ys[i]) = (y[2 * i], y[2 * i + 1]);
        return (xs, ys);
    }

    /// <summary>Z = sum over i != j of 1 / (1 + |y_i - y_j|^2), by blocks of rows added in order.</summary>
    double SumOfSimilarities(double[] xs, double[] ys)
    {
        int blocks = (n + RowsPerBlock - 1) / RowsPerBlock;
        var partial = new double[blocks];
        Parallel.For(0, blocks, block =>
        {
            double sum = 0;
            int width = System.Numerics.Vector<double>.Count;
            for (int i = block * RowsPerBlock; i < Math.Min(n, (block + 1) * RowsPerBlock); i++)
            {
                var vxi = new System.Numerics.Vector<double>(xs[i]);
                var vyi = new System.Numerics.Vector<double>(ys[i]);
                var acc = System.Numerics.Vector<double>.Zero;
                int j = 0;
                for (; j + width <= n; j += width)
                {
                    var dx = vxi - new System.Numerics.Vector<double>(xs, j);
                    var dy = vyi - new System.Numerics.Vector<double>(ys, j);
                    acc += System.Numerics.Vector<double>.One / (System.Numerics.Vector<double>.One + dx * dx + dy * dy);
                }
                double rowSum = System.Numerics.Vector.Sum(acc);
                for (; j < n; j++)
                {
                    double dx = xs[i] - xs[j], dy = ys[i] - ys[j];
                    rowSum += 1 / (1 + dx * dx + dy * dy);
                }
                sum += rowSum - 1;   // less num_ii = 1
            }
            partial[block] = sum;
        });
        return partial.Sum();
    }
}
