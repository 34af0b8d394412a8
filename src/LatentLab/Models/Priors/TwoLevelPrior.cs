using LatentLab.Models.Networks;
using static TorchSharp.torch;

namespace LatentLab.Models.Priors;

/// <summary>The prior of a VAE with two stochastic layers (Burda et al. 2015): p(z2) p(z1|z2), p(z1|z2) a diagonal
/// Gaussian whose mean and log-variance a network gives (z2 through <see cref="ModelConfig.TopHiddenDims"/> to 2 d1
/// outputs, <c>prior.net.*</c> in model.safetensors). Codes are [z1, z2].</summary>
/// <remarks>p(z2) is N(0, I), or with <c>--prior vamp</c> the VampPrior on the top layer (Tomczak &amp; Welling 2018,
/// section 3.3): (1/K) sum_k q(z2 | z1 = mu1(u_k)), the model's own top-layer posterior at K learned pseudo-inputs u_k,
/// z1 taken at the mean of q(z1|u_k) so that each component is one Gaussian (<c>prior.top.pseudo_inputs</c>).</remarks>
public sealed class TwoLevelPrior : Prior
{
    readonly LayerChain net;
    readonly Prior top;
    readonly int bottom, topDim;
    readonly string unit;

    /// <param name="topPosterior">q(z2 | z1 = mu1(x)) of images x: the components of a VampPrior on the top layer.</param>
    public TwoLevelPrior(ModelConfig config, Func<Tensor, Posteriors.DiagonalGaussianPosterior> topPosterior) : base("prior")
    {
        bottom = config.DecoderLatentDim;
        topDim = config.TopLatentDim;
        unit = config.Activation.Label();
        net = new LayerChain("net", LayerChain.Mlp(topDim, [.. config.TopHiddenDims!.Reverse(), 2 * bottom], activation: config.Activation));
        top = config.Prior == PriorRegistry.Standard ? new StandardNormalPrior(topDim)
            : config.Prior == "vamp" ? new VampPrior(config, topPosterior)
            : throw new LatentLabException($"a two-level VAE takes --prior standard or vamp (on its top layer), got '{config.Prior}'");
        RegisterComponents();
    }

    public override string Description => $"p(z2) p(z1|z2), z2 ~ {(top is VampPrior v ? $"VampPrior ({v.Components} pseudo-inputs)" : "N(0, I)")} ({topDim}-d), z1 | z2 Gaussian ({bottom}-d)";

    /// <summary>p(z2), the top layer's prior.</summary>
    public Prior Top => top;

    /// <summary>p(z1|z2) for codes z2 [..., d2]: mean and log-variance, [..., d1] each.</summary>
    public (Tensor Mu, Tensor LogVar) Lower(Tensor z2) => Posteriors.ConditionalGaussian.Of(net, z2);

    public override Tensor LowerLayerFromUpper(Tensor z)
    {
        var z2 = z.narrow(-1, bottom, topDim);
        return cat([Lower(z2).Mu, z2], -1);
    }

    public override Tensor LogDensity(Tensor z)
    {
        var z1 = z.narrow(-1, 0, bottom);
        var z2 = z.narrow(-1, bottom, topDim);
        var (mu1, logVar1) = Lower(z2);
        return top.LogDensity(z2) + Posteriors.DiagonalGaussianPosterior.LogNormal(z1, mu1, logVar1);
    }

    public override IDisposable Frozen() => top.Frozen();

    public override Tensor Sample(long n, Generator rng)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z2 = top.Sample(n, rng);
        var (mu1, logVar1) = Lower(z2);
        var z1 = mu1 + randn(mu1.shape, generator: rng) * (logVar1 * 0.5).exp();
        return cat([z1, z2], 1).MoveToOuterDisposeScope();
    }

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable()
    {
        string lower = $"h = z2 through net.0, {unit}, net.2, {unit}, ... (weight [out, in], y = W x + b), the last layer " +
                       $"giving {2 * bottom} values: the mean and the log-variance of z1; z1 = mean + exp(log_variance / 2) * eps. decoder.onnx reads z1";
        if (top is not VampPrior vamp)
            return (Posteriors.ConditionalGaussian.Tensors(net), $"z2 ~ N(0, I) ({topDim} values); " + lower);
        var (tensors, _) = vamp.Portable();
        return ([.. Posteriors.ConditionalGaussian.Tensors(net), .. tensors.Select(t => ($"top.{t.Name}", t.Tensor))],
                $"z2 from the VampPrior on the top layer: run encoder.onnx on top.pseudo_inputs [K, C, H, W], take the mean of z1 " +
                $"and the posterior's recipe to get the mean and log-variance of z2 given it, pick k uniformly, z2 = mean[k] + exp(log_variance[k] / 2) * eps ({topDim} values); " + lower);
    }
}
