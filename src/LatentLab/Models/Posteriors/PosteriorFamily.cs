using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>How a VAE turns its encoder's output into q(z|x): the number of outputs it needs per image and the posterior
/// it builds from them. A module, so a family with parameters of its own (an inverse autoregressive flow's networks)
/// keeps them in the model, named <c>posterior.*</c> in model.safetensors; the Gaussian has none.</summary>
public abstract class PosteriorFamily(string name) : nn.Module(name)
{
    /// <summary>The encoder's outputs per image this family reads.</summary>
    public abstract int EncoderOutputs { get; }

    /// <summary>q(z|x) for a batch, from the encoder's output [B, <see cref="EncoderOutputs"/>].</summary>
    public abstract Posterior FromEncoderOutput(Tensor output);

    /// <summary>The name of the encoder's outputs after the mean and the log-variance, as the ONNX encoder calls them
    /// ("flow", "context"); null when there are none (the Gaussian).</summary>
    public virtual string? ExtraOutputName => null;

    /// <summary>Whether q(z|x) takes more than the ONNX encoder's mean and log-variance (then an export writes
    /// <see cref="Portable"/> beside it as posterior.safetensors).</summary>
    public virtual bool NeedsRecipe => true;

    /// <summary>What a program needs, beside the ONNX encoder's outputs, to draw from q(z|x) and to compute its density:
    /// the family's own tensors (plain float32, any masks applied) and the recipe in words.</summary>
    public virtual (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([], "z = mean + exp(log_variance / 2) * eps, eps ~ N(0, I); log q(z|x) = sum over dimensions of log N(z; mean, exp(log_variance))");
}

/// <summary>A posterior family as <c>--posterior NAME</c> names it: how to build it for a model, and its default number
/// of flow steps (0 for a family without any).</summary>
public sealed record PosteriorKind(string Name, string Summary, int DefaultSteps, Func<ModelConfig, PosteriorFamily> Build);

/// <summary>The posterior families a VAE can have. Adding one: its own file, and one line here.</summary>
public static class PosteriorRegistry
{
    public const string Gaussian = "gaussian";

    public static IReadOnlyList<PosteriorKind> Families { get; } =
    [
        new(Gaussian, "a diagonal Gaussian N(mu, diag(sigma^2)) (Kingma & Welling 2014)", 0, c => new GaussianFamily(c.LatentDim)),
        new("planar", "a diagonal Gaussian through K planar flows, their parameters from the encoder (Rezende & Mohamed 2015)", 10, c => new PlanarFlowFamily(c.LatentDim, c.FlowSteps)),
        new("iaf", "a diagonal Gaussian through K inverse autoregressive flows, MADE networks with the encoder's context (Kingma et al. 2016)", 4, c => new InverseAutoregressiveFlowFamily(c.LatentDim, c.FlowSteps)),
    ];

    /// <summary>"planar or iaf": the families that take <c>--flow-steps</c>, for messages.</summary>
    public static string WithSteps => string.Join(" or ", Families.Where(f => f.DefaultSteps > 0).Select(f => f.Name));

    public static PosteriorKind Get(string name) =>
        Families.FirstOrDefault(f => f.Name == name)
        ?? throw new LatentLabException($"--posterior must be one of {string.Join(", ", Families.Select(f => f.Name))}, got '{name}'");
}

/// <summary>The diagonal Gaussian: the encoder's 2d outputs are the mean and the log-variance.</summary>
public sealed class GaussianFamily(int latentDim) : PosteriorFamily("posterior")
{
    public override int EncoderOutputs => 2 * latentDim;
    public override Posterior FromEncoderOutput(Tensor output) => DiagonalGaussianPosterior.FromEncoderOutput(output);
    public override bool NeedsRecipe => false;
}
