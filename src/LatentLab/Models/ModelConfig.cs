namespace LatentLab.Models;

/// <summary>Variational (Gaussian posterior, KL term) or deterministic autoencoder.</summary>
public enum ModelKind { Vae, Ae }

/// <summary>The decoder's likelihood: Bernoulli (binary cross-entropy, nats) or squared error.</summary>
public enum ReconstructionLoss { Bce, Mse }

/// <summary>What defines a model's architecture and loss. Immutable; validated once; saved beside every checkpoint.</summary>
/// <param name="HiddenDims">Encoder hidden widths; the decoder mirrors them.</param>
/// <param name="Beta">Weight of the KL term (beta-VAE, Higgins et al. 2017); 1 is the plain ELBO. Ignored by AEs.</param>
public sealed record ModelConfig(
    string Name,
    ModelKind Kind,
    int LatentDim,
    IReadOnlyList<int> HiddenDims,
    int InputDim = 784,
    double Beta = 1.0,
    ReconstructionLoss Recon = ReconstructionLoss.Bce)
{
    public const int MaxLatentDim = 4096;

    public ModelConfig Validate()
    {
        if (LatentDim is < 1 or > MaxLatentDim)
            throw new LatentLabException($"--latent-dim must be between 1 and {MaxLatentDim}, got {LatentDim}");
        if (!double.IsFinite(Beta) || Beta < 0)
            throw new LatentLabException($"--beta must be a finite number >= 0, got {Beta}");
        if (HiddenDims.Count == 0 || HiddenDims.Any(h => h < 1))
            throw new LatentLabException("hidden layer widths must be positive");
        if (InputDim < 1) throw new LatentLabException("input dimension must be positive");
        return this;
    }

    /// <summary>This preset with some settings changed; the name records each change, so a variant trains into a
    /// folder of its own (vae_2d with --beta 4 becomes vae_2d-beta4).</summary>
    public ModelConfig WithOverrides(int? latentDim = null, double? beta = null, ReconstructionLoss? recon = null)
    {
        var name = Name;
        if (latentDim is { } z && z != LatentDim) name += $"-z{z}";
        if (beta is { } b && !b.Equals(Beta)) name += $"-beta{b.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (recon is { } r && r != Recon) name += $"-{r.ToString().ToLowerInvariant()}";
        return (this with { Name = name, LatentDim = latentDim ?? LatentDim, Beta = beta ?? Beta, Recon = recon ?? Recon }).Validate();
    }

    /// <summary>Equality by value, including the hidden widths (a list compares by reference otherwise).</summary>
    public bool Equals(ModelConfig? other) =>
        other is not null && Name == other.Name && Kind == other.Kind && LatentDim == other.LatentDim &&
        HiddenDims.SequenceEqual(other.HiddenDims) && InputDim == other.InputDim &&
        Beta.Equals(other.Beta) && Recon == other.Recon;

    public override int GetHashCode() => HashCode.Combine(Name, Kind, LatentDim, InputDim, Beta, Recon);
}
