using static TorchSharp.torch;

namespace LatentLab.Models.Ae;

/// <summary>Plain autoencoder: a deterministic code z = f(x); the loss is the reconstruction term alone,
/// in the same units as the VAE's, so the two are comparable.</summary>
public sealed class DeterministicAutoencoder(ModelConfig config) : Autoencoder(config, config.LatentDim)
{
    public override Tensor EncodeMean(Tensor x) => EncoderOutput(x);

    public override LossTerms Loss(Tensor x, Generator? rng)
    {
        using var scope = NewDisposeScope();
        var reconstruction = Losses.Reconstruction(Decode(EncodeMean(x)), x, Config.Recon);
        var total = reconstruction.alias();
        var kl = zeros([], dtype: reconstruction.dtype);
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }
}
