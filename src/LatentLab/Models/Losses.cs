using static TorchSharp.torch;

namespace LatentLab.Models;

/// <summary>A model's loss on a batch: every term is summed over pixels / latent dimensions and averaged over
/// the batch, so it reads "per image"; with the BCE reconstruction the unit is nats.</summary>
public sealed record LossTerms(Tensor Total, Tensor Reconstruction, Tensor Kl);

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
