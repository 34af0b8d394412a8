namespace LatentLab.Models;

/// <summary>The named presets of the paper: a VAE and an AE, each with a 2-d and a 32-d latent space.</summary>
public static class ModelRegistry
{
    static readonly int[] PaperHidden = [512, 256];

    public static IReadOnlyList<ModelConfig> Presets { get; } =
    [
        new("vae_2d", ModelKind.Vae, 2, PaperHidden),
        new("ae_2d", ModelKind.Ae, 2, PaperHidden),
        new("vae_32d", ModelKind.Vae, 32, PaperHidden),
        new("ae_32d", ModelKind.Ae, 32, PaperHidden),
        // Burda et al. 2015's two stochastic layers: x - 200 - 200 - z1 (100) - 100 - 100 - z2 (50), ReLU where they used tanh (--activation tanh gives theirs: vae_2l-tanh).
        new("vae_2l", ModelKind.Vae, 150, [200, 200]) { TopLatentDim = 50, TopHiddenDims = [100, 100] },
    ];

    public static IEnumerable<string> Names => Presets.Select(p => p.Name);

    /// <summary>The paper's four models: what <c>latent compare</c> trains unless told otherwise.</summary>
    public static IReadOnlyList<string> PaperNames { get; } = ["vae_2d", "ae_2d", "vae_32d", "ae_32d"];

    public static ModelConfig Get(string name) =>
        Presets.FirstOrDefault(p => p.Name == name)
        ?? throw new LatentLabException($"unknown model '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>One-line description for listings.</summary>
    public static string Describe(ModelConfig c) =>
        $"{(c.Kind == ModelKind.Vae ? "variational" : "deterministic")} autoencoder, " +
        (c.Arch == Architecture.Conv
            ? $"conv {c.Image}: conv {string.Join("-", c.ConvChannels)}, dense {string.Join("-", c.HiddenDims)}-{c.LatentDim}"
            : c.TopLatentDim > 0
                ? $"{c.InputDim}-{string.Join("-", c.HiddenDims)}-z1 {c.DecoderLatentDim}-{string.Join("-", c.TopHiddenDims ?? [])}-z2 {c.TopLatentDim} MLP, two stochastic layers"
                : $"{c.InputDim}-{string.Join("-", c.HiddenDims)}-{c.LatentDim} MLP") + $", {c.Recon.ToString().ToLowerInvariant()} reconstruction";
}
