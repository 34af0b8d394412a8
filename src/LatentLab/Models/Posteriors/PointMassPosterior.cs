using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>A plain autoencoder's code as a "posterior": all its mass on z = f(x), no density.</summary>
public sealed class PointMassPosterior(Tensor code) : Posterior
{
    public override Tensor Mean { get; } = code;
    public override bool HasDensity => false;
    public override Tensor Sample(Generator? rng) => Mean;

    public override (Tensor Z, Tensor LogQ) Sample(int k, Generator? rng) =>
        throw new InvalidOperationException("a point mass has no density: an autoencoder has no importance weights");

    public override Tensor LogDensity(Tensor z) => throw new InvalidOperationException("a point mass has no density");

    public override Tensor? KlPerDimension(Priors.Prior prior) => null;
}
