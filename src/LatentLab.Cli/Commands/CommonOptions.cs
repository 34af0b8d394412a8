using Spectre.Console;
using System.CommandLine;
using LatentLab.Data;

namespace LatentLab.Cli.Commands;

/// <summary>Options shared by several commands; each command adds the ones it takes.</summary>
public static class CommonOptions
{
    public static Option<string> Dataset() => new("--dataset")
    {
        Description = $"Dataset: {string.Join(", ", DatasetCatalog.Names)}, {DspritesFiles.Name} (generated on first use), or a folder of images (one subfolder per class, or a flat folder; a factors.csv gives its known factors)",
        DefaultValueFactory = _ => DatasetCatalog.Mnist.Name,
    };

    public static Option<string> Out() => new("--out")
    {
        Description = "Results root; runs live in OUT/<dataset>/<model>/",
        DefaultValueFactory = _ => "results",
    };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = $"Data folder (default: ${DataDirectory.EnvironmentVariable}, else data/); a folder holding your own four IDX files also works",
    };

    public static Option<string?> Prior() => new("--prior")
    {
        Description = "A VAE's prior: " + string.Join("; ", Models.Priors.PriorRegistry.Families.Select(f => $"{f.Name} ({f.Summary})")) +
                      ". The run folder is named after it (vae_32d-vamp500); default standard",
    };

    public static Option<int?> PriorComponents() => new("--prior-components")
    {
        Description = "Components of the prior: " + string.Join(", ", Models.Priors.PriorRegistry.Families.Where(f => f.DefaultComponents > 0)
            .Select(f => $"{f.Name} (default {f.DefaultComponents})")),
    };

    public static Option<string?> Posterior() => new("--posterior")
    {
        Description = "A VAE's posterior family: " + string.Join("; ", Models.Posteriors.PosteriorRegistry.Families.Select(f => $"{f.Name} ({f.Summary})")) +
                      ". The run folder is named after it (vae_32d-iaf4); default gaussian",
    };

    public static Option<int?> FlowSteps() => new("--flow-steps")
    {
        Description = "Steps of the flow posterior: " + string.Join(", ", Models.Posteriors.PosteriorRegistry.Families.Where(f => f.DefaultSteps > 0)
            .Select(f => $"{f.Name} (default {f.DefaultSteps})")),
    };

    /// <summary>--posterior checked against the registry: one line naming the families when it is not one of them.</summary>
    public static string? ParsePosterior(string? value) => value is null ? null : Models.Posteriors.PosteriorRegistry.Get(value.ToLowerInvariant()).Name;

    public static Option<string?> Sampler() => new("--sampler")
    {
        Description = "What an AE samples from, fitted to its training codes after training: " +
                      string.Join("; ", Models.Samplers.SamplerRegistry.Families.Select(f => $"{f.Name} ({f.Summary})")) + ". Default gaussian",
    };

    public static Option<int?> SamplerComponents() => new("--sampler-components")
    {
        Description = "Components of --sampler gmm (default 10)",
    };

    public static string? ParseSampler(string? value) => value is null ? null : Models.Samplers.SamplerRegistry.Get(value.ToLowerInvariant()).Name;

    /// <summary>--prior checked against the registry: one line naming the families when it is not one of them.</summary>
    public static string? ParsePrior(string? value) => value is null ? null : Models.Priors.PriorRegistry.Get(value.ToLowerInvariant()).Name;

    public static Option<string?> Arch() => new("--arch")
    {
        Description = "Encoder and decoder: mlp (the paper's) or conv (strided convolutions; the run folder is NAME-conv)",
    };

    public static Option<string?> Activation() => new("--activation")
    {
        Description = "The fully connected layers' nonlinearity: relu (the paper's) or tanh (Burda et al. 2015's; the run folder is NAME-tanh). MLP models only",
    };

    public static Models.Activation? ParseActivation(string? value) => value switch
    {
        null => null,
        "relu" => Models.Activation.Relu,
        "tanh" => Models.Activation.Tanh,
        _ => throw new LatentLabException($"--activation must be relu or tanh, got '{value}'"),
    };

    public static Models.Architecture? ParseArch(string? value) => value switch
    {
        null => null,
        "mlp" => Models.Architecture.Mlp,
        "conv" => Models.Architecture.Conv,
        _ => throw new LatentLabException($"--arch must be mlp or conv, got '{value}'"),
    };

    public static Option<string?> ConvChannels() => new("--conv-channels")
    {
        Description = "A conv model's channels, one stride-2 convolution each, comma separated (default: 32,64, or 32,64,128 when the sides divide by 8; the run folder gets -chA.B)",
    };

    public static Option<string?> HiddenDims() => new("--hidden-dims")
    {
        Description = "Fully connected widths of the encoder, comma separated; the decoder mirrors them (default: the preset's, 256 for conv; the run folder gets -hA.B)",
    };

    /// <summary>A comma-separated list of positive counts (--conv-channels 64,128), or null when the option is absent.</summary>
    public static IReadOnlyList<int>? ParseCounts(string? value, string option)
    {
        if (value is null) return null;
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        var counts = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1 || n > 65536)
                throw new LatentLabException($"{option} must be positive whole numbers separated by commas (e.g. 64,128), got '{value}'");
            counts.Add(n);
        }
        return counts;
    }

    public static Option<bool> Autograd() => new("--autograd")
    {
        Description = "Train through autograd even where the hand-written step applies (MLP VAEs and AEs on the ELBO, fp32 or bf16): the reference path, the same numbers to float32 rounding (bf16: to the rare bfloat16 rounding a float32 one crosses), slower",
    };

    public static Option<bool> NoTensorBoard() => new("--no-tensorboard")
    {
        Description = "Do not write TensorBoard event files (OUT/<dataset>/<model>/tensorboard/)",
    };

    /// <summary>Where the classifier behind the Fréchet distances is cached: DATA/feature-nets/.</summary>
    public static string FeatureNets(string? dataDir) => Path.Combine(DataDirectory.Resolve(dataDir), "feature-nets");

    public static Option<string> Precision() => new("--precision")
    {
        Description = "Number format of the layers' products: fp32, bf16 (bfloat16 products; float32 weights, optimizer, losses and metrics) " +
                      "or auto (bf16 where this CPU has bfloat16 instructions and multiplies faster with them, else fp32; what it chose is printed and in config.json)",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>Resolves <c>--precision</c> for models with convolution layers or without, and prints what was chosen
    /// and why ("precision: bf16 (auto: ...)").</summary>
    public static Runtime.Precision ChoosePrecision(Spectre.Console.IAnsiConsole console, Runtime.PrecisionChoice choice, bool convolutional)
    {
        var (precision, reason) = Runtime.Precisions.Choose(choice, convolutional);
        Announce(console, precision, reason);
        return precision;
    }

    public static void Announce(IAnsiConsole console, Runtime.Precision precision, string reason) =>
        console.MarkupLineInterpolated($"precision: {Runtime.Precisions.Name(precision)} ({reason})");

    public static Option<string> LrSchedule() => new("--lr-schedule")
    {
        Description = "Learning rate over the run: constant, or cosine (annealed from --lr to 0 over all planned steps)",
        DefaultValueFactory = _ => "constant",
    };

    public static Training.LrSchedule ParseLrSchedule(string value) => value switch
    {
        "constant" => Training.LrSchedule.Constant,
        "cosine" => Training.LrSchedule.Cosine,
        _ => throw new LatentLabException($"--lr-schedule must be constant or cosine, got '{value}'"),
    };

    public static Option<int> KlWarmup() => new("--kl-warmup")
    {
        Description = "Epochs over which a VAE's KL weight rises linearly from 0 to beta (0: none); with --objective iwae it weighs log p(z) - log q(z|x) inside each importance weight",
        DefaultValueFactory = _ => 0,
    };

    public static Option<int> Validation() => new("--validation")
    {
        Description = "Training images held out as a validation split (never trained on; never the test split): its loss per epoch goes to history.csv, and model.safetensors keeps the best epoch's weights (0: none)",
        DefaultValueFactory = _ => 0,
    };

    public static Option<int> Patience() => new("--patience")
    {
        Description = "Stop when the validation loss has not improved for this many epochs (needs --validation; 0: train every epoch)",
        DefaultValueFactory = _ => 0,
    };

    public static Option<int?> Threads() => new("--threads")
    {
        Description = "libtorch threads (default: one per core)",
    };

    /// <summary>The samples of the training objective: null (the preset's ELBO) or k for iwae (5 unless
    /// <paramref name="kOption"/> says).</summary>
    public static int? IwaeSamples(string objective, int? k, string kOption) => objective switch
    {
        "elbo" => k is null ? null : throw new LatentLabException($"{kOption} belongs to --objective iwae"),
        "iwae" or "iwae-dreg" => k ?? 5,
        _ => throw new LatentLabException($"--objective must be elbo, iwae or iwae-dreg, got '{objective}'"),
    };

    /// <summary>Whether the objective asks for the doubly reparameterized gradient: true for iwae-dreg, else null (the
    /// preset's own).</summary>
    public static bool? Dreg(string objective) => objective == "iwae-dreg" ? true : null;

    public static Option<string?> LatentDim() => new("--latent-dim")
    {
        Description = "The code's size: A for one stochastic layer, A,B for two (z1 of A values, z2 of B above it; the run folder gets -zA or -zA.B)",
    };

    public static Option<int?> LatentLayers() => new("--latent-layers")
    {
        Description = "Stochastic layers of a VAE, 1 or 2 (Burda et al. 2015); 2 without --latent-dim A,B puts a top layer of half the preset's size over it",
    };

    /// <summary>The overrides of the code's size that <c>--latent-dim A[,B]</c> and <c>--latent-layers N</c> ask of
    /// <paramref name="preset"/>: (latent size, top layer's size), null where nothing changes.</summary>
    public static (int? LatentDim, int? TopLatentDim) ParseLatent(string? dims, int? layers, Models.ModelConfig preset)
    {
        if (layers is not (null or 1 or 2)) throw new LatentLabException($"--latent-layers must be 1 or 2, got {layers}");
        int[]? sizes = dims is null ? null : ParseCounts(dims, "--latent-dim")!.ToArray();
        if (sizes is { Length: > 2 }) throw new LatentLabException($"--latent-dim takes one size, or two for two stochastic layers (A,B), got '{dims}'");
        if (sizes is not null && layers is { } n && n != sizes.Length)
            throw new LatentLabException($"--latent-layers {n} needs {n} size{(n == 1 ? "" : "s")} in --latent-dim, got '{dims}'");
        int wanted = layers ?? sizes?.Length ?? (preset.TopLatentDim > 0 ? 2 : 1);
        if (sizes is { Length: 2 }) return (sizes[0] + sizes[1], sizes[1]);
        if (sizes is { Length: 1 })
        {
            if (layers is null && preset.TopLatentDim > 0)
                throw new LatentLabException($"{preset.Name} has two stochastic layers: --latent-dim A,B sets both (or --latent-layers 1 for one)");
            return (sizes[0], preset.TopLatentDim > 0 ? 0 : null);
        }
        if (wanted == 2 && preset.TopLatentDim == 0) return (preset.LatentDim + Math.Max(1, preset.LatentDim / 2), Math.Max(1, preset.LatentDim / 2));
        if (wanted == 1 && preset.TopLatentDim > 0) return (preset.DecoderLatentDim, 0);
        return (null, null);
    }
}
