using static TorchSharp.torch;

namespace LatentLab.Models.Priors;

/// <summary>The VampPrior (Tomczak &amp; Welling 2018): p(z) = (1/K) sum_k q(z | u_k), the model's own posterior at K
/// learned pseudo-inputs u_k, images kept in [0, 1] by a hard tanh and initialised near 0.05 as in the paper's code.</summary>
public sealed class VampPrior : Prior
{
    readonly TorchSharp.Modules.Parameter pseudo_inputs;
    readonly Func<Tensor, Posteriors.DiagonalGaussianPosterior> _encode;

    public VampPrior(ModelConfig config, Func<Tensor, Posteriors.DiagonalGaussianPosterior> encode) : base("prior")
    {
        if (config.PriorComponents < 1) throw new LatentLabException($"--prior-components must be at least 1, got {config.PriorComponents}");
        var shape = config.Image;
        pseudo_inputs = nn.Parameter(normal(0.05, 0.01, [config.PriorComponents, shape.Channels, shape.Height, shape.Width]));
        _encode = encode;
        RegisterComponents();
    }

    public int Components => (int)pseudo_inputs.shape[0];
    public override string Description => $"VampPrior, {Components} pseudo-inputs";

    /// <summary>The pseudo-inputs as images in [0, 1], [K, C, H, W].</summary>
    /// <remarks>clamp, whose gradient is hardtanh's (1 inside, 0 outside).</remarks>
    public Tensor PseudoInputs() => pseudo_inputs.clamp(0, 1);

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([("pseudo_inputs", PseudoInputs().detach().to(ScalarType.Float32))],
         "run encoder.onnx on pseudo_inputs [K, C, H, W] to get mean and log_variance [K, d]; pick k uniformly; z = mean[k] + exp(log_variance[k] / 2) * eps, eps ~ N(0, I)");

    // The pseudo-inputs' posteriors while Frozen: the same for every chunk of a likelihood estimate.
    (Tensor Mu, Tensor LogVar)? _frozen;

    public override IDisposable Frozen()
    {
        using (no_grad())
        using (var u = PseudoInputs())
        {
            var q = _encode(u);
            _frozen = (q.Mu.detach().clone().DetachFromDisposeScope(), q.LogVar.detach().clone().DetachFromDisposeScope());
        }
        return new Unfreeze(this);
    }

    sealed class Unfreeze(VampPrior prior) : IDisposable
    {
        public void Dispose()
        {
            if (prior._frozen is { } f) { f.Mu.Dispose(); f.LogVar.Dispose(); }
            prior._frozen = null;
        }
    }

    public override Tensor LogDensity(Tensor z)
    {
        using var scope = NewDisposeScope();
        if (_frozen is { } frozen)
            return DiagonalMixtureLogDensity(z, frozen.Mu, frozen.LogVar, full(Components, -Math.Log(Components), dtype: ScalarType.Float32)).MoveToOuterDisposeScope();
        using var u = PseudoInputs();
        var q = _encode(u);
        var logWeights = full(Components, -Math.Log(Components), dtype: ScalarType.Float32);
        return DiagonalMixtureLogDensity(z, q.Mu, q.LogVar, logWeights).MoveToOuterDisposeScope();
    }

    public override Tensor Sample(long n, Generator rng)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var u = PseudoInputs();
        var q = _encode(u);
        var logWeights = zeros(Components);
        return DiagonalMixtureSample(n, q.Mu, q.LogVar, logWeights, rng).MoveToOuterDisposeScope();
    }
}
