using System.Text.Json.Serialization;
using LatentLab.Data;

namespace LatentLab.Models;

/// <summary>Variational (Gaussian posterior, KL term) or deterministic autoencoder.</summary>
public enum ModelKind { Vae, Ae }

/// <summary>The decoder's likelihood: Bernoulli (binary cross-entropy, nats) or squared error.</summary>
public enum ReconstructionLoss { Bce, Mse }

/// <summary>The encoder and decoder networks: fully connected layers over the flattened image (the paper's), or
/// strided convolutions down and transposed convolutions up (<see cref="Networks.ConvEncoder"/>).</summary>
public enum Architecture { Mlp, Conv }

/// <summary>The nonlinearity between an MLP's layers: ReLU (the paper's), or tanh (Burda et al. 2015's networks). The
/// names are ONNX's operators; lower-cased, the command line's, config.json's and the report's.</summary>
public enum Activation { Relu, Tanh }

public static class ActivationNames
{
    /// <summary>"relu" or "tanh": as <c>--activation</c>, config.json and the run folder's suffix write it.</summary>
    public static string Name(this Activation activation) => activation.ToString().ToLowerInvariant();

    /// <summary>"ReLU" or "tanh", for sentences.</summary>
    public static string Label(this Activation activation) => activation == Activation.Relu ? "ReLU" : activation.Name();
}

/// <summary>What defines a model's architecture and loss. Immutable; validated once; saved beside every checkpoint.</summary>
/// <param name="HiddenDims">Fully connected hidden widths of the encoder; the decoder mirrors them. For a conv model,
/// the widths between the last convolution and the code.</param>
/// <param name="Beta">Weight of the KL term (beta-VAE, Higgins et al. 2017); 1 is the plain ELBO. Ignored by AEs.</param>
public sealed record ModelConfig(
    string Name,
    ModelKind Kind,
    int LatentDim,
    IReadOnlyList<int> HiddenDims,
    double Beta = 1.0,
    ReconstructionLoss Recon = ReconstructionLoss.Bce)
{
    public const int MaxLatentDim = 4096;

    /// <summary>The images the model reads and writes (channels, height, width). Run folders written before image
    /// shapes existed hold MNIST models, hence the default.</summary>
    public ImageShape Image { get; init; } = ImageShape.Mnist;

    /// <summary>The encoder and decoder networks.</summary>
    public Architecture Arch { get; init; } = Architecture.Mlp;

    /// <summary>The nonlinearity between the fully connected layers (<c>--activation</c>): ReLU unless asked for. Written
    /// to config.json (<c>activation</c>) only when it is tanh, so earlier runs read and compare as before.</summary>
    [JsonIgnore]
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>config.json's <c>activation</c>: "tanh", or absent for ReLU.</summary>
    [JsonInclude, JsonPropertyName("activation"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? ActivationInFile
    {
        get => Activation == Activation.Relu ? null : Activation.Name();
        init => Activation = value switch
        {
            null or "relu" => Activation.Relu,
            "tanh" => Activation.Tanh,
            _ => throw new LatentLabException($"config.json: activation must be relu or tanh, got '{value}'"),
        };
    }

    /// <summary>Channels of the encoder's stride-2 convolutions, in order (the decoder mirrors them); empty for MLPs.
    /// Set from the image size by <see cref="ForImages"/>.</summary>
    public IReadOnlyList<int> ConvChannels { get; init; } = [];

    /// <summary>Channels asked for with <c>--conv-channels</c>; <see cref="ForImages"/> uses them instead of its own choice
    /// (and checks that the image sides divide by 2 per layer). Not saved: <see cref="ConvChannels"/> holds what was built.</summary>
    [JsonIgnore]
    public IReadOnlyList<int>? RequestedConvChannels { get; init; }

    /// <summary>Samples k of the importance-weighted objective a VAE trains on (Burda et al. 2015, IWAE): the loss is
    /// -log (1/k) sum_i p(x, z_i) / q(z_i|x), nats per image, the ELBO for k = 1 and a tighter bound on log p(x) as k
    /// grows. Written to config.json only when it is not 1, so ELBO runs read and compare as before.</summary>
    [JsonIgnore]
    public int IwaeSamples { get; init; } = 1;

    /// <summary>config.json's <c>iwae_samples</c>: absent for the ELBO (k = 1).</summary>
    [JsonInclude, JsonPropertyName("iwae_samples"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    int? IwaeSamplesInFile { get => IwaeSamples == 1 ? null : IwaeSamples; init => IwaeSamples = value ?? 1; }

    public const int MaxIwaeSamples = 5000;

    /// <summary>Train the importance-weighted bound with the doubly reparameterized gradient (Tucker et al. 2019, DReG):
    /// the same objective and the same decoder and prior gradients, the posterior's without the score-function terms that
    /// make its signal vanish as k grows (Rainforth et al. 2018). Written to config.json (<c>iwae_gradient</c>) only when
    /// set, so earlier runs read and compare as before.</summary>
    [JsonIgnore]
    public bool Dreg { get; init; }

    /// <summary>config.json's <c>iwae_gradient</c>: "dreg", or absent for the standard gradient.</summary>
    [JsonInclude, JsonPropertyName("iwae_gradient"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? IwaeGradientInFile
    {
        get => Dreg ? "dreg" : null;
        init => Dreg = value switch
        {
            null or "standard" => false,
            "dreg" => true,
            _ => throw new LatentLabException($"config.json: iwae_gradient must be dreg or standard, got '{value}'"),
        };
    }

    /// <summary>A VAE's prior family, as <see cref="Priors.PriorRegistry"/> names it: "standard" (N(0, I)), "vamp",
    /// "mog". Written to config.json only when it is not the standard normal, so earlier runs read as before.</summary>
    [JsonIgnore]
    public string Prior { get; init; } = Priors.PriorRegistry.Standard;

    [JsonInclude, JsonPropertyName("prior"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? PriorInFile { get => Prior == Priors.PriorRegistry.Standard ? null : Prior; init => Prior = value ?? Priors.PriorRegistry.Standard; }

    /// <summary>The prior's components: the VampPrior's pseudo-inputs, the mixture's Gaussians; 0 for N(0, I).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int PriorComponents { get; init; }

    public const int MaxPriorComponents = 10_000;

    /// <summary>A VAE's posterior family, as <see cref="Posteriors.PosteriorRegistry"/> names it: "gaussian", "planar",
    /// "iaf". Written to config.json only when it is not the Gaussian, so earlier runs read as before.</summary>
    [JsonIgnore]
    public string Posterior { get; init; } = Posteriors.PosteriorRegistry.Gaussian;

    [JsonInclude, JsonPropertyName("posterior"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? PosteriorInFile { get => Posterior == Posteriors.PosteriorRegistry.Gaussian ? null : Posterior; init => Posterior = value ?? Posteriors.PosteriorRegistry.Gaussian; }

    /// <summary>β-TCVAE (Chen et al. 2018): the weight of the total correlation in the KL term's decomposition, the
    /// mutual information and the dimension-wise KL keeping weight 1; null for the plain KL term.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TcWeight { get; init; }

    public const double MaxTcWeight = 1000;

    /// <summary>FactorVAE (Kim &amp; Mnih 2018): the weight of the total correlation as a discriminator between codes and
    /// codes with each dimension shuffled across the batch estimates it; null for none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Gamma { get; init; }

    /// <summary>The flow's steps (planar, IAF); 0 for the Gaussian.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int FlowSteps { get; init; }

    public const int MaxFlowSteps = 100;

    /// <summary>A VAE with two stochastic layers (Burda et al. 2015): the top layer's size d2, 0 for one layer. The code
    /// is [z1, z2], <see cref="LatentDim"/> = d1 + d2 values; the decoder reads z1 (<see cref="DecoderLatentDim"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int TopLatentDim { get; init; }

    /// <summary>The deterministic layers between z1 and z2, in q(z2|z1) (and reversed in p(z1|z2)); Burda's 100, 100.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TopHiddenDims { get; init; }

    /// <summary>The values of the code the decoder reads: z1 of a two-level VAE, the whole code otherwise.</summary>
    [JsonIgnore] public int DecoderLatentDim => LatentDim - TopLatentDim;

    /// <summary>What an AE samples from, fitted to its training codes after training (<see cref="Samplers.SamplerRegistry"/>):
    /// "gaussian" or "gmm". Written to config.json only when it is not the Gaussian.</summary>
    [JsonIgnore]
    public string Sampler { get; init; } = Samplers.SamplerRegistry.Gaussian;

    [JsonInclude, JsonPropertyName("sampler"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    string? SamplerInFile { get => Sampler == Samplers.SamplerRegistry.Gaussian ? null : Sampler; init => Sampler = value ?? Samplers.SamplerRegistry.Gaussian; }

    /// <summary>The sampler's components (the mixture's Gaussians); 0 for the single Gaussian.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int SamplerComponents { get; init; }

    public const int MaxSamplerComponents = 1000;

    /// <summary>Values per image, as the MLP's first layer sees them.</summary>
    [JsonIgnore] public int InputDim => Image.Pixels;

    public ModelConfig Validate()
    {
        if (LatentDim is < 1 or > MaxLatentDim)
            throw new LatentLabException($"--latent-dim must be between 1 and {MaxLatentDim}, got {LatentDim}");
        if (!double.IsFinite(Beta) || Beta < 0)
            throw new LatentLabException($"--beta must be a finite number >= 0, got {Beta}");
        if (IwaeSamples is < 1 or > MaxIwaeSamples)
            throw new LatentLabException($"--k must be between 1 and {MaxIwaeSamples}, got {IwaeSamples}");
        if (IwaeSamples > 1 && Kind != ModelKind.Vae) throw new LatentLabException("--objective iwae needs a VAE: an AE has no posterior to sample");
        if (IwaeSamples > 1 && !Beta.Equals(1.0)) throw new LatentLabException("--objective iwae bounds log p(x) itself: it takes no --beta");
        if (IwaeSamples > 1 && Recon != ReconstructionLoss.Bce) throw new LatentLabException("--objective iwae needs the Bernoulli likelihood (--recon bce)");
        if (Activation != Activation.Relu && Arch != Architecture.Mlp)
            throw new LatentLabException("--activation tanh is for the fully connected models (--arch mlp); the conv networks use ReLU");
        if (Dreg && IwaeSamples < 2) throw new LatentLabException("--objective iwae-dreg needs k >= 2 samples (at k = 1 the bound is the ELBO)");
        if (Dreg && Posterior != Posteriors.PosteriorRegistry.Gaussian)
            throw new LatentLabException("--objective iwae-dreg needs the density of a draw with the posterior's weights held fixed: the Gaussian posterior (one or two levels), not a flow");
        if (Prior != Priors.PriorRegistry.Standard && Kind != ModelKind.Vae)
            throw new LatentLabException("--prior needs a VAE: an AE has no prior while it trains (it samples from a density fitted afterwards, --sampler)");
        CheckComponents("--prior", Prior, PriorComponents, Priors.PriorRegistry.Get(Prior).DefaultComponents, MaxPriorComponents, Priors.PriorRegistry.WithComponents);
        if (TopLatentDim != 0)
        {
            if (Kind != ModelKind.Vae) throw new LatentLabException("two stochastic layers need a VAE");
            if (TopLatentDim < 1 || TopLatentDim >= LatentDim) throw new LatentLabException($"the top layer's size must be between 1 and {LatentDim - 1}, got {TopLatentDim}");
            if (TopHiddenDims is not { Count: > 0 } || TopHiddenDims.Any(h => h < 1)) throw new LatentLabException("a two-level VAE needs positive widths between its layers");
            if (Prior is not (Priors.PriorRegistry.Standard or "vamp"))
                throw new LatentLabException($"a two-level VAE's prior is p(z2) p(z1|z2): --prior standard or vamp sets p(z2), got '{Prior}'");
            if (Posterior != Posteriors.PosteriorRegistry.Gaussian)
                throw new LatentLabException("a two-level VAE has its own posterior q(z1|x) q(z2|z1): it takes no --posterior");
        }
        if (TcWeight is { } tcWeight)
        {
            if (!double.IsFinite(tcWeight) || tcWeight < 0 || tcWeight > MaxTcWeight)
                throw new LatentLabException($"--tc-weight must be between 0 and {MaxTcWeight}, got {tcWeight}");
            if (Kind != ModelKind.Vae) throw new LatentLabException("--tc-weight needs a VAE: an AE has no KL term to decompose");
            if (!Beta.Equals(1.0)) throw new LatentLabException("--tc-weight weighs the total correlation alone (β-TCVAE); it takes no --beta");
            if (IwaeSamples > 1) throw new LatentLabException("--tc-weight decomposes the ELBO's KL term: it takes no --objective iwae");
            if (Posterior != Posteriors.PosteriorRegistry.Gaussian || TopLatentDim > 0)
                throw new LatentLabException("--tc-weight needs the one-level Gaussian posterior (its per-dimension densities)");
        }
        if (Gamma is { } gamma)
        {
            if (!double.IsFinite(gamma) || gamma < 0 || gamma > MaxTcWeight)
                throw new LatentLabException($"--gamma must be between 0 and {MaxTcWeight}, got {gamma}");
            if (Kind != ModelKind.Vae) throw new LatentLabException("--gamma needs a VAE: an AE has no posterior codes to decorrelate");
            if (TcWeight is not null) throw new LatentLabException("--gamma (FactorVAE) and --tc-weight (β-TCVAE) are two ways to the same penalty: choose one");
            if (!Beta.Equals(1.0) || IwaeSamples > 1) throw new LatentLabException("--gamma adds to the ELBO: it takes no --beta and no --objective iwae");
            if (Posterior != Posteriors.PosteriorRegistry.Gaussian || TopLatentDim > 0)
                throw new LatentLabException("--gamma needs the one-level Gaussian posterior");
        }
        if (Posterior != Posteriors.PosteriorRegistry.Gaussian && Kind != ModelKind.Vae)
            throw new LatentLabException("--posterior needs a VAE: an AE's code is a point, not a distribution");
        CheckComponents("--flow", Posterior, FlowSteps, Posteriors.PosteriorRegistry.Get(Posterior).DefaultSteps, MaxFlowSteps, Posteriors.PosteriorRegistry.WithSteps, "steps");
        if (Posterior != Posteriors.PosteriorRegistry.Gaussian && Prior == "vamp")
            throw new LatentLabException("--prior vamp is a mixture of Gaussian posteriors: it needs --posterior gaussian");
        if (Sampler != Samplers.SamplerRegistry.Gaussian && Kind != ModelKind.Ae)
            throw new LatentLabException("--sampler needs an AE: a VAE samples from its prior (--prior)");
        CheckComponents("--sampler", Sampler, SamplerComponents, Samplers.SamplerRegistry.Get(Sampler).DefaultComponents, MaxSamplerComponents, "gmm");
        if (HiddenDims.Count == 0 || HiddenDims.Any(h => h < 1))
            throw new LatentLabException("hidden layer widths must be positive");
        Image.Validate();
        if (Arch == Architecture.Conv)
        {
            if (ConvChannels.Count == 0 || ConvChannels.Any(c => c < 1))
                throw new LatentLabException("a conv model needs positive convolution channel counts");
            if (!SidesDivide(Image, ConvChannels.Count))
                throw new LatentLabException($"a conv model with {ConvChannels.Count} stride-2 layers needs image sides divisible by {1 << ConvChannels.Count}, got {Image.Width}x{Image.Height}");
        }
        else if (ConvChannels.Count > 0) throw new LatentLabException("an MLP model has no convolution channels");
        return this;
    }

    /// <summary>A family's component count: within 1..<paramref name="max"/> for a family that has components (its default
    /// is above 0), none for one that has not.</summary>
    static void CheckComponents(string option, string family, int components, int defaultComponents, int max, string familiesWithThem, string what = "components")
    {
        if (defaultComponents > 0 && (components < 1 || components > max))
            throw new LatentLabException($"{option}-{what} must be between 1 and {max:N0}, got {components}");
        if (defaultComponents == 0 && components != 0)
            throw new LatentLabException($"{option}-{what} needs {(option == "--flow" ? "--posterior" : option)} {familiesWithThem}, not {family}");
    }

    /// <summary>This preset with some settings changed; the name records each change, so a variant trains into a
    /// folder of its own (vae_2d with --beta 4 becomes vae_2d-beta4, with --arch conv vae_2d-conv).</summary>
    public ModelConfig WithOverrides(int? latentDim = null, double? beta = null, ReconstructionLoss? recon = null, Architecture? arch = null,
        int? iwaeSamples = null, IReadOnlyList<int>? convChannels = null, IReadOnlyList<int>? hiddenDims = null,
        string? prior = null, int? priorComponents = null, string? sampler = null, int? samplerComponents = null,
        string? posterior = null, int? flowSteps = null, int? topLatentDim = null, double? tcWeight = null, double? gamma = null, bool? dreg = null, Activation? activation = null)
    {
        var name = Name;
        if (priorComponents is not null && prior is null && Prior == Priors.PriorRegistry.Standard)
            throw new LatentLabException($"--prior-components needs --prior {Priors.PriorRegistry.WithComponents}");
        if (arch is { } a && a != Arch) name += $"-{a.ToString().ToLowerInvariant()}";
        if (convChannels is { } cc)
        {
            if ((arch ?? Arch) != Architecture.Conv) throw new LatentLabException("--conv-channels needs --arch conv");
            if (cc.Count == 0 || cc.Any(c => c < 1)) throw new LatentLabException("--conv-channels must be positive counts, e.g. 64,128");
            name += $"-ch{string.Join('.', cc)}";
        }
        if (hiddenDims is { } hd)
        {
            if (hd.Count == 0 || hd.Any(h => h < 1)) throw new LatentLabException("--hidden-dims must be positive widths, e.g. 512,256");
            name += $"-h{string.Join('.', hd)}";
        }
        int newLatent = latentDim ?? LatentDim, newTop = topLatentDim ?? TopLatentDim;
        if (newLatent != LatentDim || newTop != TopLatentDim) name += newTop > 0 ? $"-z{newLatent - newTop}.{newTop}" : $"-z{newLatent}";
        if (beta is { } b && !b.Equals(Beta)) name += $"-beta{b.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (recon is { } r && r != Recon) name += $"-{r.ToString().ToLowerInvariant()}";
        if (tcWeight is { } tc && !tc.Equals(TcWeight)) name += $"-tc{tc.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (gamma is { } g && !g.Equals(Gamma)) name += $"-gamma{g.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (iwaeSamples is { } k && k != IwaeSamples) name += $"-iwae{k}";
        if (dreg is { } dr && dr != Dreg) name += dr ? "-dreg" : "-score";
        if (activation is { } act && act != Activation) name += $"-{act.Name()}";
        string newPrior = prior ?? Prior;
        int components = newPrior == Prior && priorComponents is null ? PriorComponents
            : priorComponents ?? Priors.PriorRegistry.Get(newPrior).DefaultComponents;
        if (newPrior != Prior || components != PriorComponents)
            name += newPrior == Priors.PriorRegistry.Standard ? "-standard" : $"-{newPrior}{components}";
        string newPosterior = posterior ?? Posterior;
        if (flowSteps is not null && posterior is null && Posterior == Posteriors.PosteriorRegistry.Gaussian)
            throw new LatentLabException($"--flow-steps needs --posterior {Posteriors.PosteriorRegistry.WithSteps}");
        int steps = newPosterior == Posterior && flowSteps is null ? FlowSteps
            : flowSteps ?? Posteriors.PosteriorRegistry.Get(newPosterior).DefaultSteps;
        if (newPosterior != Posterior || steps != FlowSteps)
            name += newPosterior == Posteriors.PosteriorRegistry.Gaussian ? "-gaussian" : $"-{newPosterior}{steps}";
        string newSampler = sampler ?? Sampler;
        if (samplerComponents is not null && sampler is null && Sampler == Samplers.SamplerRegistry.Gaussian)
            throw new LatentLabException("--sampler-components needs --sampler gmm");
        int samplerK = newSampler == Sampler && samplerComponents is null ? SamplerComponents
            : samplerComponents ?? Samplers.SamplerRegistry.Get(newSampler).DefaultComponents;
        if (newSampler != Sampler || samplerK != SamplerComponents) name += $"-{Samplers.SamplerRegistry.Label(newSampler, samplerK)}";
        var changed = this with { Name = name, LatentDim = newLatent, TopLatentDim = newTop,
            TopHiddenDims = newTop == 0 ? null : TopHiddenDims ?? TwoLevelHiddenDims, Beta = beta ?? Beta, Recon = recon ?? Recon, Arch = arch ?? Arch, TcWeight = tcWeight ?? TcWeight, Gamma = gamma ?? Gamma,
            IwaeSamples = iwaeSamples ?? IwaeSamples, Dreg = dreg ?? Dreg, Activation = activation ?? Activation, RequestedConvChannels = convChannels ?? RequestedConvChannels,
            Prior = newPrior, PriorComponents = components, Sampler = newSampler, SamplerComponents = samplerK,
            Posterior = newPosterior, FlowSteps = steps };
        if (changed.Arch == Architecture.Conv && Arch != Architecture.Conv) changed = changed with { HiddenDims = [ConvHidden] };
        if (hiddenDims is not null) changed = changed with { HiddenDims = [.. hiddenDims] };
        // Channels for larger images than the preset's (four layers for 64x64) are checked by ForImages once the images are known.
        if (changed.RequestedConvChannels is { } asked && !SidesDivide(changed.Image, asked.Count)) return changed;
        return changed.ForImages(changed.Image);
    }

    /// <summary>The deterministic layers between z1 and z2 when <c>--latent-layers 2</c> makes a one-level preset two-level:
    /// Burda et al.'s 100, 100.</summary>
    public static readonly IReadOnlyList<int> TwoLevelHiddenDims = [100, 100];

    /// <summary>Fully connected width between a conv model's last convolution and its code.</summary>
    public const int ConvHidden = 256;

    /// <summary>This model for images of <paramref name="image"/>'s shape. A conv model gets three stride-2
    /// convolutions (32, 64, 128 channels) when both sides divide by 8, two (32, 64) when they divide by 4: 28x28 maps
    /// to 7x7, 32x32 to 4x4, 64x64 to 8x8. Channels asked for (<see cref="RequestedConvChannels"/>) are kept, one
    /// stride-2 layer per entry.</summary>
    public ModelConfig ForImages(ImageShape image)
    {
        image.Validate();
        if (Arch != Architecture.Conv) return (this with { Image = image }).Validate();
        if (RequestedConvChannels is { } requested)
        {
            if (!SidesDivide(image, requested.Count))
                throw new LatentLabException($"--conv-channels {string.Join(',', requested)} means {requested.Count} stride-2 layers, which need image sides divisible by {1 << requested.Count}, got {image.Width}x{image.Height}");
            return (this with { Image = image, ConvChannels = [.. requested] }).Validate();
        }
        int[] channels = SidesDivide(image, 3) ? [32, 64, 128]
            : SidesDivide(image, 2) ? [32, 64]
            : throw new LatentLabException($"--arch conv needs image sides divisible by 4, got {image.Width}x{image.Height}; choose one with --image-size (28, 32, 48, 64, ...)");
        return (this with { Image = image, ConvChannels = channels }).Validate();
    }

    static bool SidesDivide(ImageShape image, int strideTwoLayers) =>
        image.Height % (1 << strideTwoLayers) == 0 && image.Width % (1 << strideTwoLayers) == 0;

    /// <summary>Equality by value, including the lists (a list compares by reference otherwise).</summary>
    public bool Equals(ModelConfig? other) =>
        other is not null && Name == other.Name && Kind == other.Kind && LatentDim == other.LatentDim &&
        HiddenDims.SequenceEqual(other.HiddenDims) && Image == other.Image && Arch == other.Arch &&
        ConvChannels.SequenceEqual(other.ConvChannels) && Beta.Equals(other.Beta) && Recon == other.Recon && IwaeSamples == other.IwaeSamples && Dreg == other.Dreg && Activation == other.Activation &&
        Prior == other.Prior && PriorComponents == other.PriorComponents && Sampler == other.Sampler && SamplerComponents == other.SamplerComponents;

    public override int GetHashCode() => HashCode.Combine(Name, Kind, LatentDim, Image, Arch, Beta, Recon);
}
