using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Evaluation;

/// <summary>The importance-weighted bound on log p(x) of Burda et al. (2015), nats per image.</summary>
/// <remarks>log p(x) >= E[log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)], z_i ~ q(z|x). k = 1 is the ELBO; the bound
/// tightens as k grows. The k samples are drawn in chunks and combined with a running log-sum-exp, so memory does
/// not grow with k and nothing overflows. Chunks are kept near <see cref="RowsPerChunk"/> decoded images: larger
/// temporaries (tens of MB) are mapped and unmapped by malloc on every chunk, and the page faults cost more than
/// the decoding. The weights themselves are the model's (<see cref="Autoencoder.LogWeights"/>), whatever its prior
/// and posterior.</remarks>
public static class Iwae
{
    public const int RowsPerChunk = 2048;

    /// <summary>log p(x) estimates for each image of <paramref name="x"/> [N, C, H, W] (binary or in [0, 1]): shape [N].</summary>
    public static Tensor LogLikelihood(Autoencoder model, Tensor x, int k, Generator rng)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        if (!model.IsVariational) throw new ArgumentException($"{model.Config.Name} has no posterior density: no likelihood estimate", nameof(model));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var frozen = model.Prior!.Frozen();   // the VampPrior's components once, not once per chunk
        var q = model.Encode(x);
        long n = x.shape[0];
        int samplesPerChunk = (int)Math.Max(1, RowsPerChunk / n);
        var running = full(n, double.NegativeInfinity, dtype: ScalarType.Float64);
        for (int done = 0; done < k; done += samplesPerChunk)
        {
            Runtime.TorchRuntime.CollectBetweenSteps();
            using var chunkScope = NewDisposeScope();
            int s = Math.Min(samplesPerChunk, k - done);
            var logWeights = model.LogWeights(q, x, s, rng).to(ScalarType.Float64);     // [s, n]
            var combined = stack([running, logWeights.logsumexp(0)]).logsumexp(0);
            running.copy_(combined);
        }
        return (running - Math.Log(k)).MoveToOuterDisposeScope();
    }
}
