using LatentLab.Models.Networks;
using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>The posterior of a VAE with two stochastic layers (Burda et al. 2015, section 5): q(z1|x) q(z2|z1), both
/// diagonal Gaussians. The encoder network gives q(z1|x); a network of the family's own (z1 through
/// <see cref="ModelConfig.TopHiddenDims"/> to 2 d2 outputs, <c>posterior.net.*</c> in model.safetensors) gives q(z2|z1).
/// Codes are [z1, z2] side by side, d1 + d2 = <see cref="ModelConfig.LatentDim"/> values.</summary>
public sealed class TwoLevelFamily : PosteriorFamily
{
    readonly LayerChain net;
    readonly string unit;

    public int Bottom { get; }
    public int Top { get; }

    public TwoLevelFamily(ModelConfig config) : base("posterior")
    {
        Bottom = config.DecoderLatentDim;
        Top = config.TopLatentDim;
        unit = config.Activation.Label();
        net = new LayerChain("net", LayerChain.Mlp(Bottom, [.. config.TopHiddenDims!, 2 * Top], activation: config.Activation));
        RegisterComponents();
    }

    public override int EncoderOutputs => 2 * Bottom;

    public override Posterior FromEncoderOutput(Tensor output) => new TwoLevelPosterior(DiagonalGaussianPosterior.FromEncoderOutput(output), this);

    /// <summary>q(z2|z1) for codes z1 [..., B, d1]: its mean and log-variance, [..., B, d2] each.</summary>
    public (Tensor Mu, Tensor LogVar) Upper(Tensor z1) => ConditionalGaussian.Of(net, z1);

    /// <summary><see cref="Upper"/> with the network's weights held fixed (detached): gradients reach z1 only.</summary>
    public (Tensor Mu, Tensor LogVar) UpperAtFixedWeights(Tensor z1) => ConditionalGaussian.Of(net, z1, fixedWeights: true);

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        (ConditionalGaussian.Tensors(net),
         $"Two stochastic layers. z1 = mean + exp(log_variance / 2) * eps1 ({Bottom} values); then h = z1 through net.0, {unit}, net.2, " +
         $"{unit}, ... (weight [out, in], y = W x + b), the last layer giving {2 * Top} values: the mean and the log-variance of z2; " +
         "z2 = mean2 + exp(log_variance2 / 2) * eps2. The code is [z1, z2]; log q = log N(z1) + log N(z2); the decoder reads z1");
}

/// <summary>q(z1, z2|x) = q(z1|x) q(z2|z1): draws z1, then z2 given it; the density is the sum of the two Gaussians'.</summary>
public sealed class TwoLevelPosterior(DiagonalGaussianPosterior lower, TwoLevelFamily family) : DrawnPosterior
{
    public DiagonalGaussianPosterior Lower { get; } = lower;

    /// <summary>[mu1, the mean of q(z2|z1) at z1 = mu1]: the code of pictures and metrics.</summary>
    public override Tensor Mean => cat([Lower.Mu, family.Upper(Lower.Mu).Mu], -1);

    public override (Tensor Z, Tensor LogQ) Sample(int k, Generator? rng)
    {
        var (z1, logQ1) = Lower.Sample(k, rng);                                          // [k, B, d1], [k, B]
        var (mu2, logVar2) = family.Upper(z1);                                            // [k, B, d2]
        var eps = randn(mu2.shape, dtype: mu2.dtype, device: mu2.device, generator: rng);
        var (z2, logQ2) = DiagonalGaussianPosterior.Reparameterized(mu2, logVar2, eps);
        return (cat([z1, z2], -1), logQ1 + logQ2);
    }

    public override Tensor LogDensity(Tensor z)
    {
        var z1 = z.narrow(-1, 0, family.Bottom);
        var (mu2, logVar2) = family.Upper(z1);
        return Lower.LogDensity(z1) + DiagonalGaussianPosterior.LogNormal(z.narrow(-1, family.Bottom, family.Top), mu2, logVar2);
    }

    /// <remarks>q(z2|z1)'s mean and log-variance come from the network run with its weights detached: z1 still moves
    /// them, the weights do not.</remarks>
    public override Tensor LogDensityAtFixedParameters(Tensor z)
    {
        var z1 = z.narrow(-1, 0, family.Bottom);
        var (mu2, logVar2) = family.UpperAtFixedWeights(z1);
        return Lower.LogDensityAtFixedParameters(z1) + DiagonalGaussianPosterior.LogNormal(z.narrow(-1, family.Bottom, family.Top), mu2, logVar2);
    }
}

/// <summary>A diagonal Gaussian whose mean and log-variance a network gives (its last layer's two halves): the
/// conditionals q(z2|z1) and p(z1|z2) of a two-level VAE.</summary>
static class ConditionalGaussian
{
    /// <summary>The mean and the log-variance for inputs x [..., n]; run in the weights' type (a bfloat16 twin's) and
    /// returned in the inputs'.</summary>
    /// <param name="fixedWeights">Run the network with its weights detached (<see cref="LayerChain.ForwardAtFixedWeights"/>).</param>
    public static (Tensor Mu, Tensor LogVar) Of(LayerChain net, Tensor x, bool fixedWeights = false)
    {
        var type = net.parameters().First().dtype;
        var halves = (fixedWeights ? net.ForwardAtFixedWeights(x.to(type)) : net.call(x.to(type))).to(x.dtype).chunk(2, dim: -1);
        return (halves[0], halves[1]);
    }

    /// <summary>The network's weights as an export writes them: <c>net.0.weight</c>, ..., float32.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Tensors(LayerChain net) =>
        [.. net.named_parameters().Select(p => ($"net.{p.name}", (Tensor)p.parameter.detach().to(ScalarType.Float32)))];
}
