using static TorchSharp.torch;

namespace LatentLab.Models;

/// <summary>A model's loss on a batch: every term is summed over pixels / latent dimensions and averaged over
/// the batch, so it reads "per image"; with the BCE reconstruction the unit is nats.</summary>
/// <param name="Decomposition">The KL term's three parts, where the objective weighs them apart (β-TCVAE).</param>
/// <param name="Codes">The batch's codes z ~ q(z|x), detached: what an adversary of the objective (FactorVAE's
/// discriminator) trains on after the model's step; null for objectives without one.</param>
public sealed record LossTerms(Tensor Total, Tensor Reconstruction, Tensor Kl, KlDecomposition? Decomposition = null, Tensor? Codes = null);

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
