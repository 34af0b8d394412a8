using LatentLab.Models.Posteriors;
using static TorchSharp.torch;

namespace LatentLab.Models.Ae;

/// <summary>Plain autoencoder: a deterministic code z = f(x) (a point-mass "posterior"); the loss is the reconstruction
/// term alone, in the same units as the VAE's, so the two are comparable. Its "prior" is a sampler fitted to its
/// training codes after training (Ghosh et al. 2020's ex-post density estimation).</summary>
public sealed class DeterministicAutoencoder(ModelConfig config) : Autoencoder(config, config.LatentDim)
{
    public override bool IsVariational => false;

    /// <summary>The fitted sampler (<see cref="Samplers"/>); null until one is fitted or loaded.</summary>
    public override Priors.Prior? Prior => Sampler;

    public Priors.Prior? Sampler { get; set; }

    /// <summary>Fits the config's sampler (<see cref="ModelConfig.Sampler"/>) with seed 0: a function of the codes alone,
    /// so every program that fits it gets the same one.</summary>
    public override void FitSampler(Tensor trainCodes) =>
        UseSampler(Samplers.SamplerRegistry.Get(Config.Sampler).Fit(trainCodes, Config.SamplerComponents, 0));

    public override void UseSampler(Priors.Prior sampler)
    {
        Sampler?.Dispose();
        Sampler = sampler;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Sampler?.Dispose();
        base.Dispose(disposing);
    }

    public override PointMassPosterior Encode(Tensor x) => new(EncoderOutput(x));

    public override LossTerms Loss(Tensor x, Generator? rng, double klWeight = 1.0)
    {
        using var scope = NewDisposeScope();
        var reconstruction = Losses.Reconstruction(Decode(EncodeMean(x)), x, Config.Recon);
        var total = reconstruction.alias();
        var kl = zeros([], dtype: reconstruction.dtype);
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }
}
