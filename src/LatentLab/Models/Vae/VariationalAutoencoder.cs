using static TorchSharp.torch;

namespace LatentLab.Models.Vae;

/// <summary>VAE (Kingma &amp; Welling 2014): Gaussian encoder q(z|x) = N(mu, exp(logVar)), Bernoulli decoder.</summary>
/// <remarks>Loss = reconstruction + beta * KL(q(z|x) || N(0, I)): the negative ELBO for beta = 1, nats per image; with
/// <see cref="ModelConfig.IwaeSamples"/> k > 1, the negative importance-weighted bound (Burda et al. 2015).</remarks>
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
        if (Config.IwaeSamples > 1) return ImportanceWeightedLoss(x, Config.IwaeSamples, rng);
        using var scope = NewDisposeScope();
        var (mu, logVar) = Encode(x);
        var z = Reparameterize(mu, logVar, rng);
        var reconstruction = Losses.Reconstruction(Decode(z), x, Config.Recon);
        var kl = Losses.GaussianKl(mu, logVar).mean();
        var total = reconstruction + kl * (Config.Beta * KlWeight);
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }

    const double Log2Pi = 1.8378770664093453;

    /// <summary>-log (1/k) sum_i w_i, w_i = p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x) reparameterized: the IWAE loss
    /// (Burda et al. 2015), nats per image, averaged over the batch. Its terms for display: the reconstruction
    /// -log p(x|z) averaged over the k samples, and the closed-form KL.</summary>
    public LossTerms ImportanceWeightedLoss(Tensor x, int k, Generator? rng)
    {
        using var scope = NewDisposeScope();
        var (mu, logVar) = Encode(x);
        long n = x.shape[0], d = mu.shape[1];
        var eps = randn([k, n, d], dtype: mu.dtype, device: mu.device, generator: rng);
        var z = mu + eps * (logVar * 0.5).exp();                                       // [k, n, d]
        var logits = Decode(z.view(k * n, d)).view(k, n, -1);
        var flat = x.flatten(1);
        var logPxGivenZ = (logits * flat).sum([2]) - nn.functional.softplus(logits).sum([2]);   // [k, n], log Bernoulli
        var logPz = -0.5 * (z.square() + Log2Pi).sum([2]);
        var logQz = -0.5 * (eps.square() + logVar + Log2Pi).sum([2]);
        var bound = (logPxGivenZ + logPz - logQz).logsumexp(0) - Math.Log(k);          // [n]
        var total = -bound.mean();
        var reconstruction = -logPxGivenZ.mean();
        var kl = Losses.GaussianKl(mu, logVar).mean();
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }
}
