using LatentLab.Models.Networks;
using static TorchSharp.torch;

namespace LatentLab.Models.Priors;

/// <summary>The prior of a VAE with two stochastic layers (Burda et al. 2015): p(z2) p(z1|z2), z2 ~ N(0, I) and
/// p(z1|z2) a diagonal Gaussian whose mean and log-variance a network gives (z2 through
/// <see cref="ModelConfig.TopHiddenDims"/> to 2 d1 outputs, <c>prior.net.*</c> in model.safetensors). Codes are [z1, z2].</summary>
public sealed class TwoLevelPrior : Prior
{
    readonly LayerChain net;
    readonly int bottom, top;

    public TwoLevelPrior(ModelConfig config) : base("prior")
    {
        bottom = config.DecoderLatentDim;
        top = config.TopLatentDim;
        net = new LayerChain("net", LayerChain.Mlp(top, [.. config.TopHiddenDims!.Reverse(), 2 * bottom]));
        RegisterComponents();
    }

    public override string Description => $"p(z2) p(z1|z2), z2 ~ N(0, I) ({top}-d), z1 | z2 Gaussian ({bottom}-d)";

    /// <summary>p(z1|z2) for codes z2 [..., d2]: mean and log-variance, [..., d1] each.</summary>
    public (Tensor Mu, Tensor LogVar) Lower(Tensor z2) => Posteriors.ConditionalGaussian.Of(net, z2);

    public override Tensor LowerLayerFromUpper(Tensor z)
    {
        var z2 = z.narrow(-1, bottom, top);
        return cat([Lower(z2).Mu, z2], -1);
    }

    public override Tensor LogDensity(Tensor z)
    {
        var z1 = z.narrow(-1, 0, bottom);
        var z2 = z.narrow(-1, bottom, top);
        var (mu1, logVar1) = Lower(z2);
        return -0.5 * (z2.square() + Log2Pi).sum([-1]) + Posteriors.DiagonalGaussianPosterior.LogNormal(z1, mu1, logVar1);
    }

    public override Tensor Sample(long n, Generator rng)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z2 = randn([n, top], generator: rng);
        var (mu1, logVar1) = Lower(z2);
        var z1 = mu1 + randn(mu1.shape, generator: rng) * (logVar1 * 0.5).exp();
        return cat([z1, z2], 1).MoveToOuterDisposeScope();
    }

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        (Posteriors.ConditionalGaussian.Tensors(net),
         $"z2 ~ N(0, I) ({top} values); h = z2 through net.0, ReLU, net.2, ReLU, ... (weight [out, in], y = W x + b), the last layer " +
         $"giving {2 * bottom} values: the mean and the log-variance of z1; z1 = mean + exp(log_variance / 2) * eps. decoder.onnx reads z1");
}
