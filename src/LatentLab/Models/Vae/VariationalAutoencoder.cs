using static TorchSharp.torch;

namespace LatentLab.Models.Vae;

/// <summary>VAE (Kingma &amp; Welling 2014): Gaussian encoder q(z|x) = N(mu, exp(logVar)), Bernoulli decoder.</summary>
/// <remarks>Loss = reconstruction + beta * KL(q(z|x) || N(0, I)): the negative ELBO for beta = 1, nats per image.</remarks>
public sealed class VariationalAutoencoder(ModelConfig config) : Autoencoder(config, 2 * config.LatentDim)
{
    /// <summary>The posterior's mean and log-variance, each [B, latentDim].</summary>
    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var halves = EncoderOutput(x).chunk(2, dim: 1);
        return (halves[0], halves[1]);
    }

    /// <summary>z = mu + sigma * eps with eps ~ N(0, I): a sample whose gradient flows to mu and logVar.</summary>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar, Generator? rng)
    {
        var eps = randn(mu.shape, dtype: mu.dtype, device: mu.device, generator: rng);
        return mu + eps * (logVar * 0.5).exp();
    }

    public override Tensor EncodeMean(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Encode(x).Mu.MoveToOuterDisposeScope();
    }

    public override LossTerms Loss(Tensor x, Generator? rng)
    {
        using var scope = NewDisposeScope();
        var (mu, logVar) = Encode(x);
        var z = Reparameterize(mu, logVar, rng);
        var reconstruction = Losses.Reconstruction(Decode(z), x, Config.Recon);
        var kl = Losses.GaussianKl(mu, logVar).mean();
        var total = reconstruction + kl * Config.Beta;
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }
}
