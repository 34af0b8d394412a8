using static TorchSharp.torch;

namespace LatentLab.Models.Priors;

/// <summary>p(z), a model's prior over codes: a module of the model, so a learned prior's parameters train, save and
/// load with the weights (named <c>prior.*</c> in model.safetensors).</summary>
public abstract class Prior(string name) : nn.Module<Tensor, Tensor>(name)
{
    protected const double Log2Pi = 1.8378770664093453;

    /// <summary>log p(z) in nats of codes z [..., d]: shape [...]. Float32 whatever the model's compute type.</summary>
    public abstract Tensor LogDensity(Tensor z);

    /// <summary><paramref name="n"/> draws from p(z), [n, d] float32, without gradients.</summary>
    public abstract Tensor Sample(long n, Generator rng);

    /// <summary>KL(N(mu, exp(logVar)) || p(z)) per image and dimension, [B, d] nats, where it has a closed form; null
    /// otherwise (a mixture), and the objectives use the one-sample estimate log q(z|x) - log p(z).</summary>
    public virtual Tensor? KlPerDimension(Tensor mu, Tensor logVar) => null;

    /// <summary>True for N(0, I) alone: its quantiles are known in closed form (the manifold figure's grid).</summary>
    public virtual bool IsStandardNormal => false;

    /// <summary>For titles and the report: "N(0, I)", "VampPrior, 500 pseudo-inputs", ...</summary>
    public abstract string Description { get; }

    public override Tensor forward(Tensor z) => LogDensity(z);

    /// <summary>While the returned object lives, the prior may keep what it computes from its parameters (the
    /// VampPrior: its pseudo-inputs' posteriors) instead of computing it for every call: for long evaluations without
    /// gradients (the likelihood estimate), during which the weights do not change.</summary>
    public virtual IDisposable Frozen() => NothingFrozen.Instance;

    sealed class NothingFrozen : IDisposable
    {
        public static readonly NothingFrozen Instance = new();
        public void Dispose() { }
    }

    /// <summary>For a prior over several stochastic layers, codes [n, d] whose lower layer is replaced by its mean given
    /// their upper layer (what moving the upper layer alone means); other priors return the codes as they are.</summary>
    public virtual Tensor LowerLayerFromUpper(Tensor z) => z;

    /// <summary>What a program without LatentLab needs to sample from this prior (written beside an ONNX export as
    /// prior.safetensors): the tensors, float32, and one sentence saying how to use them.</summary>
    public virtual (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([], "z ~ N(0, I): a standard normal vector of the latent size");

    /// <summary>log sum_k w_k N(z; m_k, diag(exp(v_k))) for z [..., d], means and logVars [K, d], logWeights [K]
    /// normalised (log-softmax): shape [...]. The mixture densities of the VampPrior and the Gaussian-mixture prior.</summary>
    /// <remarks>The squared distances come from two matrix products, sum_d z^2/s^2 - 2 z m/s^2 + m^2/s^2, instead of a
    /// [..., K, d] difference tensor: a k = 5000 estimate with K = 500 spent most of its time in that tensor. In float64,
    /// because the three terms are large where a component is narrow and their sum is small.</remarks>
    protected static Tensor DiagonalMixtureLogDensity(Tensor z, Tensor means, Tensor logVars, Tensor logWeights)
    {
        using var scope = NewDisposeScope();
        long d = z.shape[^1];
        var flat = z.to(ScalarType.Float64).reshape(-1, d);                                   // [P, d]
        var m = means.to(ScalarType.Float64);
        var v = logVars.to(ScalarType.Float64);
        var precision = (-v).exp();                                                          // [K, d]
        var squared = flat.square().mm(precision.t()) - 2 * flat.mm((m * precision).t())
                      + (m.square() * precision).sum([1]);                                   // [P, K]
        var perComponent = -0.5 * (squared + v.sum([1]) + d * Log2Pi);
        var logP = (perComponent + logWeights.to(ScalarType.Float64)).logsumexp(-1);
        return logP.reshape(z.shape[..^1]).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Draws from a diagonal Gaussian mixture: a component by its weight, then a point from it; [n, d].</summary>
    protected static Tensor DiagonalMixtureSample(long n, Tensor means, Tensor logVars, Tensor logWeights, Generator rng)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var k = multinomial(logWeights.to(ScalarType.Float32).softmax(0), n, replacement: true, generator: rng);
        var m = means.to(ScalarType.Float32).index_select(0, k);
        var s = (logVars.to(ScalarType.Float32).index_select(0, k) * 0.5).exp();
        return (m + s * randn(m.shape, generator: rng)).MoveToOuterDisposeScope();
    }
}

/// <summary>A prior family as <c>--prior NAME</c> names it: how to build it for a model, and its default size.</summary>
/// <param name="Build">The prior for a model of this config; <c>encode</c> is the model's own q(z|x) (the VampPrior
/// is a mixture of posteriors).</param>
/// <param name="DefaultComponents">Components (pseudo-inputs, mixture components) when <c>--prior-components</c> is not
/// given; 0 for a prior without any.</param>
public sealed record PriorFamily(string Name, string Summary, int DefaultComponents,
    Func<ModelConfig, Func<Tensor, Posteriors.DiagonalGaussianPosterior>, Prior> Build);

/// <summary>The prior families a VAE can have. Adding one: its own file, and one line here.</summary>
public static class PriorRegistry
{
    public const string Standard = "standard";

    public static IReadOnlyList<PriorFamily> Families { get; } =
    [
        new(Standard, "N(0, I), the fixed standard normal (Kingma & Welling 2014)", 0, (c, _) => new StandardNormalPrior(c.LatentDim)),
        new("vamp", "VampPrior: a mixture of the posteriors at K learned pseudo-inputs (Tomczak & Welling 2018)", 500, (c, encode) => new VampPrior(c, encode)),
        new("mog", "a learned mixture of K diagonal Gaussians", 10, (c, _) => new MixturePrior(c.LatentDim, c.PriorComponents)),
    ];

    /// <summary>"vamp or mog": the families that take <c>--prior-components</c>, for messages.</summary>
    public static string WithComponents => string.Join(" or ", Families.Where(f => f.DefaultComponents > 0).Select(f => f.Name));

    public static PriorFamily Get(string name) =>
        Families.FirstOrDefault(f => f.Name == name)
        ?? throw new LatentLabException($"--prior must be one of {string.Join(", ", Families.Select(f => f.Name))}, got '{name}'");
}
