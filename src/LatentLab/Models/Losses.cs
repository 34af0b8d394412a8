using static TorchSharp.torch;

namespace LatentLab.Models;

/// <summary>A model's loss on a batch: every term is summed over pixels / latent dimensions and averaged over
/// the batch, so it reads "per image"; with the BCE reconstruction the unit is nats.</summary>
/// <param name="Decomposition">The KL term's three parts, where the objective weighs them apart (β-TCVAE).</param>
/// <param name="Codes">The batch's codes z ~ q(z|x), detached: what an adversary of the objective (FactorVAE's
/// discriminator) trains on after the model's step; null for objectives without one.</param>
/// <param name="Path">With the doubly reparameterized gradient: the second half of the backward pass (null: the usual one).</param>
public sealed record LossTerms(Tensor Total, Tensor Reconstruction, Tensor Kl, KlDecomposition? Decomposition = null, Tensor? Codes = null,
    ReparameterizedPath? Path = null)
{
    /// <summary>The gradients of <see cref="Total"/> into the parameters' <c>.grad</c>: one backward pass, or with a
    /// <see cref="Path"/>, the objective's pass (the decoder's and the prior's gradients, and the gradient at the codes)
    /// and then the codes' own pass back into the posterior's networks.</summary>
    public void Backward()
    {
        Total.backward();
        Path?.Backward();
    }
}

/// <summary>The codes' way back into the posterior, for the doubly reparameterized gradient of the importance-weighted
/// bound (Tucker et al. 2019, eq. 7): the objective is computed at <see cref="Leaf"/>, a detached copy of the draws
/// <see cref="Draws"/> [k, B, d], with q's density at fixed parameters; its backward leaves dL/dz_i at the leaf, and
/// the draws are then back-propagated with that gradient times <see cref="Scale"/> [k, B] (the normalized weights
/// w~_i, so that the posterior's networks receive sum_i w~_i^2 d log w_i/dz_i dz_i/dphi).</summary>
public sealed record ReparameterizedPath(Tensor Leaf, Tensor Draws, Tensor Scale)
{
    public void Backward()
    {
        using var atLeaf = Leaf.grad ?? throw new InvalidOperationException("the objective's backward left no gradient at the codes");
        using var scaled = atLeaf * Scale.unsqueeze(-1).to(atLeaf.dtype);
        Draws.backward([scaled]);
    }
}

/// <summary>E[KL(q(z|x) || p(z))] = I(x; z) + TC(z) + sum_d KL(q(z_d) || p(z_d)) (Chen et al. 2018, eq. 2), each averaged
/// over the batch, nats: the index-code mutual information, the total correlation of the aggregate posterior q(z),
/// and the dimension-wise KL to the prior.</summary>
public sealed record KlDecomposition(Tensor MutualInformation, Tensor TotalCorrelation, Tensor DimensionKl);

/// <summary>The loss terms shared by all models.</summary>
public static class Losses
{
    /// <summary>Reconstruction term from decoder logits, summed over pixels, mean over the batch.</summary>
    /// <remarks>Bce: the Bernoulli negative log-likelihood -log p(x|z), in nats (Kingma &amp; Welling 2014).
    /// Mse: the squared error of sigmoid(logits), i.e. a Gaussian NLL with variance 1/2 up to a constant.</remarks>
    public static Tensor Reconstruction(Tensor logits, Tensor x, ReconstructionLoss kind)
    {
        long batch = x.shape[0];
        return kind switch
        {
            ReconstructionLoss.Bce => nn.functional.binary_cross_entropy_with_logits(logits, x, reduction: nn.Reduction.Sum) / batch,
            ReconstructionLoss.Mse => nn.functional.mse_loss(logits.sigmoid(), x, reduction: nn.Reduction.Sum) / batch,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}
