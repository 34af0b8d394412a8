using LatentLab.Models.Posteriors;
using LatentLab.Models.Priors;
using static TorchSharp.torch;

namespace LatentLab.Models;

/// <summary>The objectives, written once in terms of log p(x|z), log p(z) and log q(z|x), nats per image.</summary>
public static class Objectives
{
    /// <summary>KL(q(z|x) || p(z)) per image, [B]: the closed form where the prior has one (summed over dimensions),
    /// else the one-sample Monte-Carlo estimate log q(z|x) - log p(z) at the reparameterized <paramref name="z"/>
    /// (Kingma &amp; Welling 2014, eq. 6 against eq. 7), with <paramref name="logQ"/> = log q(z|x) when the draw gave it.</summary>
    public static Tensor Kl(Posterior q, Prior prior, Tensor z, Tensor? logQ = null) =>
        q.KlPerDimension(prior)?.sum([1]) ?? (logQ ?? q.LogDensity(z)) - prior.LogDensity(z);

    /// <summary>The KL term's decomposition (Chen et al. 2018) at one draw z_i ~ q(z|x_i) per image of a batch of M, by
    /// minibatch-weighted sampling: q(z_i) ~ 1/(N M) sum_j q(z_i|x_j), and each marginal q(z_id) likewise from the
    /// per-dimension densities, N the training set's size. Returns the terms' batch means; their sum is the one-sample
    /// estimate log q(z|x) - log p(z) averaged, the KL of the ELBO.</summary>
    /// <param name="mu">q(z|x_j)'s means, [M, d]; <paramref name="logVar"/> its log-variances.</param>
    public static KlDecomposition DecomposeKl(Tensor z, Tensor mu, Tensor logVar, Prior prior, long datasetSize)
    {
        long m = z.shape[0];
        // log q(z_id | x_j), [M (i), M (j), d].
        var perDimension = DiagonalGaussianPosterior.LogNormalPerDimension(z.unsqueeze(1), mu.unsqueeze(0), logVar.unsqueeze(0));
        double logNm = Math.Log((double)Math.Max(datasetSize, m) * m);
        var logQzGivenX = perDimension.diagonal(0, 0, 1).sum([0]);                          // [M]: log q(z_i | x_i)
        var logQz = perDimension.sum([2]).logsumexp(1) - logNm;                            // [M]
        var logQzProduct = (perDimension.logsumexp(1) - logNm).sum([1]);                  // [M]
        var logPz = prior.LogDensity(z);
        return new KlDecomposition((logQzGivenX - logQz).mean(), (logQz - logQzProduct).mean(), (logQzProduct - logPz).mean());
    }

    /// <summary>log (1/k) sum_i w_i over the first dimension of <paramref name="logWeights"/> [k, B]: the importance-
    /// weighted bound on log p(x) (Burda et al. 2015), [B]. k = 1 is the ELBO.</summary>
    public static Tensor ImportanceWeightedBound(Tensor logWeights) => logWeights.logsumexp(0) - Math.Log(logWeights.shape[0]);
}

/// <summary>The decoder's likelihood p(x|z).</summary>
public static class Likelihood
{
    /// <summary>log Bernoulli(x; sigmoid(l)) = x l - softplus(l), summed over pixels: [..., B] for logits [..., B, P] and
    /// images [B, P] (binary, or intensities in [0, 1] read as the Bernoulli's cross-entropy).</summary>
    public static Tensor LogBernoulli(Tensor logits, Tensor flatImages) =>
        (logits * flatImages).sum([-1]) - nn.functional.softplus(logits).sum([-1]);
}
