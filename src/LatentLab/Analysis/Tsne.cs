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
/// 1e-4. Deterministic: nothing is random. Cost per iteration is a few passes over N x N float32 matrices.</remarks>
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
        var p = JointProbabilities(x, options.Perplexity).to(ScalarType.Float32);

        Tensor y;
        using (var pca = Pca.Fit(x, 2))
        {
            var initial = pca.Transform(x);
            y = (initial / initial[.., 0].std() * 1e-4).to(ScalarType.Float32);
        }
        var update = zeros_like(y);
        var gains = ones_like(y);
        double learningRate = Math.Max(n / options.EarlyExaggeration / 4, 50);
        var exaggerated = p * (float)options.EarlyExaggeration;

        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            using var step = NewDisposeScope();
            bool early = iteration < options.ExaggerationIterations;
            double momentum = early ? 0.5 : 0.8;
            var (gradient, _) = Gradient(early ? exaggerated : p, y, klWanted: false);

            // Gains grow where the gradient keeps its direction against the last update and shrink where it flips.
            var flipped = (update * gradient).lt(0);
            gains.copy_(where(flipped, gains + 0.2f, gains * 0.8f).clamp_min_(options.MinGain));
            update.mul_(momentum).sub_(gradient.mul_(gains).mul_(learningRate));
            y.add_(update);
            if ((iteration + 1) % 50 == 0) progress?.Report(iteration + 1);
        }
        var (_, kl) = Gradient(p, y, klWanted: true);
        return new TsneResult(y.to(ScalarType.Float64).MoveToOuterDisposeScope(), kl);
    }

    /// <summary>The KL gradient 4 sum_j (p_ij - q_ij) (1 + |y_i - y_j|^2)^-1 (y_i - y_j), and KL(P || Q) if wanted.</summary>
    static (Tensor Gradient, double Kl) Gradient(Tensor p, Tensor y, bool klWanted)
    {
        var squares = y.square().sum(1);
        // num_ij = 1 / (1 + |y_i|^2 + |y_j|^2 - 2 y_i.y_j), with a zero diagonal.
        var num = y.mm(y.t()).mul_(-2).add_(squares.unsqueeze(1)).add_(squares.unsqueeze(0)).clamp_min_(0).add_(1).reciprocal_();
        num.diagonal().zero_();
        double total = num.sum().item<float>();
        // W = (P - num / total) * num; gradient = 4 (diag(W 1) Y - W Y).
        var w = num.mul(p).addcmul_(num, num, value: -1 / total);
        var gradient = w.sum(1, keepdim: true).mul(y).sub_(w.mm(y)).mul_(4);
        double kl = 0;
        if (klWanted)
        {
            var q = (num / total).clamp_min_(1e-12f);
            var pp = p.clamp_min(1e-12f);
            kl = (pp * (pp / q).log_()).sum().item<float>();
        }
        return (gradient, kl);
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
