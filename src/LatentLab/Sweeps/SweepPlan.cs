using System.Globalization;
using LatentLab.Data;
using LatentLab.IO;
using LatentLab.Models;
using LatentLab.Training;

namespace LatentLab.Sweeps;

/// <summary>One point of a sweep: its index, its place on the axes, its full configuration and its run folder.</summary>
/// <param name="Folder">The run folder, relative to the sweep's folder.</param>
/// <param name="Beta">The KL weight; null for an AE.</param>
public sealed record SweepPoint(int Index, string Model, ModelKind Kind, int LatentDim, double? Beta, long Seed, string Folder,
    ModelConfig Config, TrainingConfig Training);

/// <summary>A planned sweep, as <c>OUT/&lt;dataset&gt;/sweeps/NAME/sweep.json</c> holds it: the grid, and every point in a
/// stable order (models, then latent sizes, then betas, then seeds, each in the order the grid gives them).</summary>
public sealed record SweepPlan(string Name, string Dataset, SweepSpec Spec, IReadOnlyList<SweepPoint> Points, DateTime CreatedUtc)
{
    public const string FileName = "sweep.json";

    /// <summary>The folder of sweep <paramref name="name"/>: OUT/&lt;dataset&gt;/sweeps/NAME.</summary>
    public static string FolderOf(string outRoot, string dataset, string name) => Path.Combine(outRoot, dataset, "sweeps", name);

    /// <summary>Sweep names become folder names: letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    public static string CheckName(string name) =>
        name.Length is > 0 and <= 100 && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? name
            : throw new LatentLabException($"sweep name '{name}': use letters, digits, '-', '_' and '.' (it names a folder)");

    /// <summary>Every point of <paramref name="spec"/> for images of <paramref name="image"/>'s shape.</summary>
    public static SweepPlan Create(string name, string dataset, SweepSpec spec, ImageShape image)
    {
        CheckName(name);
        var points = new List<SweepPoint>();
        foreach (var modelName in spec.Models)
        {
            var preset = SweepSpec.Preset(modelName);
            var dims = spec.LatentDims.Count > 0 ? spec.LatentDims : [preset.LatentDim];
            foreach (int z in dims)
                // A VAE's objectives: each beta, then each β-TCVAE weight and each FactorVAE gamma at beta 1; an AE has none.
                foreach (var (beta, tcWeight, gamma) in preset.Kind == ModelKind.Vae
                             ? spec.Betas.Select(b => ((double?)b, (double?)null, (double?)null))
                                 .Concat((spec.TcWeights ?? []).Select(t => ((double?)1.0, (double?)t, (double?)null)))
                                 .Concat((spec.Gammas ?? []).Select(g => ((double?)1.0, (double?)null, (double?)g)))
                             : [((double?)null, (double?)null, (double?)null)])
                foreach (string? prior in preset.Kind == ModelKind.Vae ? (spec.Priors ?? [Models.Priors.PriorRegistry.Standard]).Select(p => (string?)p) : [null])
                foreach (string? posterior in preset.Kind == ModelKind.Vae ? (spec.Posteriors ?? [Models.Posteriors.PosteriorRegistry.Gaussian]).Select(p => (string?)p) : [null])
                    foreach (long seed in spec.Seeds)
                    {
                        bool withComponents = prior is not null && Models.Priors.PriorRegistry.Get(prior).DefaultComponents > 0;
                        bool withSteps = posterior is not null && Models.Posteriors.PosteriorRegistry.Get(posterior).DefaultSteps > 0;
                        string? sampler = preset.Kind == ModelKind.Ae ? spec.Sampler : null;
                        bool samplerComponents = sampler is not null && Models.Samplers.SamplerRegistry.Get(sampler).DefaultComponents > 0;
                        var config = preset.WithOverrides(latentDim: z, beta: beta, arch: spec.Arch,
                            prior: prior, priorComponents: withComponents ? spec.PriorComponents : null,
                            sampler: sampler, samplerComponents: samplerComponents ? spec.SamplerComponents : null,
                            posterior: posterior, flowSteps: withSteps ? spec.FlowSteps : null, tcWeight: tcWeight, gamma: gamma).ForImages(image);
                        var training = new TrainingConfig(spec.Epochs, spec.BatchSize, spec.LearningRate, seed, spec.Binarize).Validate();
                        int index = points.Count;
                        string kind = preset.Kind == ModelKind.Vae ? "vae" : "ae";
                        string betaPart = tcWeight is { } t ? $"-tc{t.ToString(CultureInfo.InvariantCulture)}"
                            : gamma is { } g ? $"-gamma{g.ToString(CultureInfo.InvariantCulture)}"
                            : beta is { } b ? $"-beta{b.ToString(CultureInfo.InvariantCulture)}" : "";
                        string priorPart = config.Prior == Models.Priors.PriorRegistry.Standard ? "" : $"-{config.Prior}{config.PriorComponents}";
                        string samplerPart = config.Sampler == Models.Samplers.SamplerRegistry.Gaussian ? "" : $"-{Models.Samplers.SamplerRegistry.Label(config.Sampler, config.SamplerComponents)}";
                        string posteriorPart = config.Posterior == Models.Posteriors.PosteriorRegistry.Gaussian ? "" : $"-{config.Posterior}{config.FlowSteps}";
                        string model = $"{kind}{(spec.Arch == Architecture.Conv ? "-conv" : "")}-z{z}{betaPart}{priorPart}{posteriorPart}{samplerPart}";
                        config = config with { Name = model };
                        string folder = $"runs/{index:D3}-{model}-seed{seed}";
                        points.Add(new SweepPoint(index, modelName, preset.Kind, z, beta, seed, folder, config, training));
                    }
        }
        return new SweepPlan(name, dataset, spec, points, DateTime.UtcNow);
    }

    /// <summary>The point at <paramref name="index"/>, or one line saying the range.</summary>
    public SweepPoint Point(int index) =>
        index >= 0 && index < Points.Count ? Points[index]
            : throw new LatentLabException($"sweep {Name} has points 0 to {Points.Count - 1}; there is no index {index}");

    /// <summary>Two plans of the same grid (their creation times aside).</summary>
    public bool SameGrid(SweepPlan other) => Json.Serialize(this with { CreatedUtc = default }) == Json.Serialize(other with { CreatedUtc = default });

    public static SweepPlan Read(string sweepFolder)
    {
        var path = Path.Combine(sweepFolder, FileName);
        if (!File.Exists(path)) throw new LatentLabException($"no sweep planned in {sweepFolder} (no {FileName}); plan it first with 'latent sweep plan'");
        return Json.ReadFile<SweepPlan>(path);
    }
}
