using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>q(z|x) = N(mu, diag(exp(logVar))), the encoder's output split in halves (Kingma &amp; Welling 2014).</summary>
public sealed class DiagonalGaussianPosterior(Tensor mu, Tensor logVar) : Posterior
{
    const double Log2Pi = 1.8378770664093453;

    public Tensor Mu { get; } = mu;
    public Tensor LogVar { get; } = logVar;
    public override Tensor Mean => Mu;
    public override bool HasDensity => true;

    /// <summary>The encoder's 2d outputs [B, 2d]: the first half is the mean, the second the log-variance.</summary>
    public static DiagonalGaussianPosterior FromEncoderOutput(Tensor output)
    {
        var halves = output.chunk(2, dim: 1);
        return new DiagonalGaussianPosterior(halves[0], halves[1]);
    }

    /// <summary>z = mu + sigma * eps, eps ~ N(0, I): the gradient flows to mu and logVar.</summary>
    public override Tensor Sample(Generator? rng)
    {
        var eps = randn(Mu.shape, dtype: Mu.dtype, device: Mu.device, generator: rng);
        return Mu + eps * (LogVar * 0.5).exp();
    }

    /// <remarks>log q(z|x) is computed from eps (z - mu = sigma eps), the form that keeps it exact for tiny sigma.</remarks>
    public override (Tensor Z, Tensor LogQ) Sample(int k, Generator? rng)
    {
        long n = Mu.shape[0], d = Mu.shape[1];
        var eps = randn([k, n, d], dtype: Mu.dtype, device: Mu.device, generator: rng);
        return Reparameterized(Mu, LogVar, eps);
    }

    /// <summary>z = mu + sigma * eps and its log-density -0.5 (eps^2 + logVar + log 2 pi) summed over the last dimension,
    /// for any shapes that broadcast: the draw of every diagonal Gaussian of the models (also the conditionals of
    /// <see cref="TwoLevelPosterior"/>).</summary>
    public static (Tensor Z, Tensor LogQ) Reparameterized(Tensor mu, Tensor logVar, Tensor eps) =>
        (mu + eps * (logVar * 0.5).exp(), -0.5 * (eps.square() + logVar + Log2Pi).sum([-1]));

    /// <summary>log N(z; mu, diag(exp(logVar))) summed over the last dimension, for any shapes that broadcast.</summary>
    public static Tensor LogNormal(Tensor z, Tensor mu, Tensor logVar) => LogNormalPerDimension(z, mu, logVar).sum([-1]);

    /// <summary>log N(z_d; mu_d, exp(logVar_d)) of each dimension, broadcast: [..., d].</summary>
    public static Tensor LogNormalPerDimension(Tensor z, Tensor mu, Tensor logVar) => -0.5 * ((z - mu).square() / logVar.exp() + logVar + Log2Pi);

    /// <summary>log q(z|x) of codes z [..., B, d]: shape [..., B].</summary>
    public override Tensor LogDensity(Tensor z) => LogNormal(z, Mu, LogVar);

    public override Tensor LogDensityAtFixedParameters(Tensor z) => LogNormal(z, Mu.detach(), LogVar.detach());

    public override Tensor? KlPerDimension(Priors.Prior prior) => prior.KlPerDimension(Mu, LogVar);
}
