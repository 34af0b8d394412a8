using LatentLab.Models.Vae;
using static TorchSharp.torch;

namespace LatentLab.Evaluation;

/// <summary>The importance-weighted bound on log p(x) of Burda et al. (2015), nats per image.</summary>
/// <remarks>log p(x) >= E[log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)], z_i ~ q(z|x). k = 1 is the ELBO; the bound
/// tightens as k grows. The k samples are drawn in chunks and combined with a running log-sum-exp, so memory does
/// not grow with k and nothing overflows. Chunks are kept near <see cref="RowsPerChunk"/> decoded images: larger
/// temporaries (tens of MB) are mapped and unmapped by malloc on every chunk, and the page faults cost more than
/// the decoding.</remarks>
public static class Iwae
{
    const double Log2Pi = 1.8378770664093453;
    public const int RowsPerChunk = 2048;

    /// <summary>log p(x) estimates for each image of <paramref name="x"/> [N, C, H, W] (binary or in [0, 1]): shape [N].</summary>
    public static Tensor LogLikelihood(VariationalAutoencoder model, Tensor x, int k, Generator rng)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (mu, logVar) = model.Encode(x);
        var std = (logVar * 0.5).exp();
        long n = x.shape[0], d = mu.shape[1];
        int samplesPerChunk = (int)Math.Max(1, RowsPerChunk / n);
        var running = full(n, double.NegativeInfinity, dtype: ScalarType.Float64);
        for (int done = 0; done < k; done += samplesPerChunk)
        {
            using var chunkScope = NewDisposeScope();
            int s = Math.Min(samplesPerChunk, k - done);
            var eps = randn([s, n, d], generator: rng);
            var z = mu + eps * std;                                            // [s, n, d]
            var logits = model.Decode(z.view(s * n, d)).view(s, n, -1);
            // log Bernoulli(x; sigmoid(l)) = x l - softplus(l), summed over pixels
            var logPxGivenZ = (logits * x.flatten(1)).sum([2]) - nn.functional.softplus(logits).sum([2]);   // [s, n]
            var logPz = -0.5 * (z.square() + Log2Pi).sum([2]);
            var logQz = -0.5 * (eps.square() + logVar + Log2Pi).sum([2]);
            var logWeights = (logPxGivenZ + logPz - logQz).to(ScalarType.Float64);
            var combined = stack([running, logWeights.logsumexp(0)]).logsumexp(0);
            running.copy_(combined);
        }
        return (running - Math.Log(k)).MoveToOuterDisposeScope();
    }
}
