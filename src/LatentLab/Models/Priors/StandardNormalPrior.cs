using static TorchSharp.torch;

namespace LatentLab.Models.Priors;

/// <summary>p(z) = N(0, I): no parameters (Kingma &amp; Welling 2014).</summary>
public sealed class StandardNormalPrior : Prior
{
    readonly int _dim;

    public StandardNormalPrior(int dim) : base("prior")
    {
        _dim = dim;
        RegisterComponents();
    }

    public override string Description => "N(0, I)";
    public override bool IsStandardNormal => true;

    public override Tensor LogDensity(Tensor z) => -0.5 * (z.square() + Log2Pi).sum([-1]);

    public override Tensor Sample(long n, Generator rng) => randn(n, _dim, generator: rng);

    /// <summary>0.5 (mu^2 + sigma^2 - log sigma^2 - 1) per dimension: Kingma &amp; Welling (2014), appendix B.</summary>
    public override Tensor? KlPerDimension(Tensor mu, Tensor logVar) => 0.5 * (mu.square() + logVar.exp() - logVar - 1);
}
