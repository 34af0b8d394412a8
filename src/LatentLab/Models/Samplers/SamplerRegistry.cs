using static TorchSharp.torch;

namespace LatentLab.Models.Samplers;

/// <summary>What <c>--sampler NAME</c> fits to an autoencoder's training codes: <paramref name="Fit"/>(codes, K, seed).</summary>
public sealed record SamplerFamily(string Name, string Summary, int DefaultComponents, Func<Tensor, int, long, Priors.Prior> Fit);

/// <summary>The samplers an AE can have. Adding one: its own file, a case in <see cref="SamplerFile"/>, and one line here.</summary>
public static class SamplerRegistry
{
    public const string Gaussian = "gaussian";

    public static IReadOnlyList<SamplerFamily> Families { get; } =
    [
        new(Gaussian, "one full-covariance Gaussian, fitted by maximum likelihood", 0, (codes, _, _) => GaussianSampler.Fit(codes)),
        new("gmm", "a mixture of K full-covariance Gaussians fitted by EM (Ghosh et al. 2020)", 10, (codes, k, seed) => GaussianMixtureSampler.Fit(codes, k, seed)),
    ];

    public static SamplerFamily Get(string name) =>
        Families.FirstOrDefault(f => f.Name == name)
        ?? throw new LatentLabException($"--sampler must be one of {string.Join(", ", Families.Select(f => f.Name))}, got '{name}'");

    /// <summary>"gaussian", "gmm10": how a fitted sampler is named in metrics.json and the report.</summary>
    public static string Label(string name, int components) => Get(name).DefaultComponents == 0 ? name : $"{name}{components}";
}
