using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>q(z|x) for a batch of images, built from the encoder's output: what the objectives, the likelihood estimate
/// and the figures ask of a posterior, whatever its family.</summary>
public abstract class Posterior
{
    /// <summary>The code used for pictures and metrics: the posterior mean (or the code itself), [B, d].</summary>
    public abstract Tensor Mean { get; }

    /// <summary>False for a point mass (a plain autoencoder's code): it has no density, so no ELBO or likelihood.</summary>
    public abstract bool HasDensity { get; }

    /// <summary><paramref name="k"/> reparameterized draws z ~ q(z|x), [k, B, d], each with its log q(z|x) in nats, [k, B].</summary>
    public abstract (Tensor Z, Tensor LogQ) Sample(int k, Generator? rng);

    /// <summary>log q(z|x) of codes z [..., B, d]: shape [..., B].</summary>
    public abstract Tensor LogDensity(Tensor z);

    /// <summary>log q(z|x) of codes z [..., B, d] with the posterior's parameters held fixed: the gradient reaches z
    /// but not the networks that made q, [..., B]. What the doubly reparameterized gradient differentiates
    /// (Tucker et al. 2019); a family whose density at a given code is not in closed form (a flow) has none.</summary>
    public virtual Tensor LogDensityAtFixedParameters(Tensor z) =>
        throw new LatentLabException("this posterior has no closed-form density at a given code: --objective iwae-dreg needs the Gaussian posterior");

    /// <summary>One reparameterized draw per image, [B, d].</summary>
    public abstract Tensor Sample(Generator? rng);

    /// <summary>One reparameterized draw per image, [B, d], with its log q(z|x) [B] where the draw gives it for free (a
    /// flow's: its inverse is costly, and not differentiable when solved numerically); null where the objectives need no
    /// density at the draw (a closed-form KL) or can ask <see cref="LogDensity"/>.</summary>
    public virtual (Tensor Z, Tensor? LogQ) SampleWithDensity(Generator? rng) => (Sample(rng), null);

    /// <summary>KL(q(z|x) || p(z)) per image and latent dimension, [B, d], in closed form where the prior gives one
    /// (<see cref="Priors.Prior.KlPerDimension"/>); null otherwise, and the objectives estimate log q - log p at a sample.</summary>
    public abstract Tensor? KlPerDimension(Priors.Prior prior);
}

/// <summary>A posterior drawn through a transformation (a flow, a second layer): each draw carries its log q, there is no
/// closed-form KL, and one draw per image is the first of <see cref="Posterior.Sample(int, Generator?)"/>'s.</summary>
public abstract class DrawnPosterior : Posterior
{
    public override bool HasDensity => true;

    public override Tensor Sample(Generator? rng) => Sample(1, rng).Z[0];

    public override (Tensor Z, Tensor? LogQ) SampleWithDensity(Generator? rng)
    {
        var (z, logQ) = Sample(1, rng);
        return (z[0], logQ[0]);
    }

    /// <summary>No closed form: the objectives estimate log q - log p at a draw.</summary>
    public override Tensor? KlPerDimension(Priors.Prior prior) => null;
}
