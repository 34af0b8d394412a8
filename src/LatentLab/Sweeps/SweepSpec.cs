using System.Globalization;
using LatentLab.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LatentLab.Sweeps;

/// <summary>A grid of runs: models x latent sizes x betas x seeds, and the training options every point shares.
/// Written to and read from a sweep file (YAML, the keys below), so a grid is a file one can commit.</summary>
/// <param name="Dataset">A dataset name (mnist, fashion-mnist) or a folder of images, as <c>--dataset</c> takes it.</param>
/// <param name="Models">Presets (vae_2d, ae_32d, ...) or the kinds <c>vae</c> and <c>ae</c> (the paper's 512-256 MLP).</param>
/// <param name="LatentDims">Latent sizes; empty: each preset's own.</param>
/// <param name="Betas">KL weights for the VAEs (an AE has no KL term: its points do not repeat per beta).</param>
/// <param name="Threads">libtorch threads per point; empty: the cores divided among the points running at once.</param>
/// <param name="Priors">The VAEs' priors, one more axis of the grid (standard, vamp, mog); empty: the standard normal.</param>
/// <param name="PriorComponents">Components of the priors that have them; empty: each family's default.</param>
/// <param name="Sampler">What the AEs sample from (gaussian, gmm); empty: the Gaussian.</param>
/// <param name="SamplerComponents">Components of the gmm sampler; empty: its default.</param>
/// <param name="Posteriors">The VAEs' posterior families, one more axis of the grid (gaussian, planar, iaf); empty: the Gaussian.</param>
/// <param name="FlowSteps">Steps of the flow posteriors; empty: each family's default.</param>
/// <param name="TcWeights">β-TCVAE points besides the betas' (each at β 1 with this total-correlation weight,
/// <c>--tc-weight</c>); empty: none.</param>
/// <param name="Gammas">FactorVAE points likewise (each at β 1 with this discriminator weight, <c>--gamma</c>); empty: none.</param>
/// <param name="Precision">fp32, bf16 or auto (<c>--precision</c>), resolved where each point runs; empty: auto.</param>
public sealed record SweepSpec(
    string Dataset,
    IReadOnlyList<string> Models,
    IReadOnlyList<int> LatentDims,
    IReadOnlyList<double> Betas,
    IReadOnlyList<long> Seeds,
    int Epochs = 30,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    int? TrainSize = null,
    int? TestSize = null,
    bool Binarize = false,
    int? Threads = null,
    int IwaeK = 100,
    Architecture Arch = Architecture.Mlp,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Priors = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? PriorComponents = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Sampler = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? SamplerComponents = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Posteriors = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? FlowSteps = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? TcWeights = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? Gammas = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Precision = null)
{
    /// <summary>The sweep file's keys, in the order <see cref="ToYaml"/> writes them.</summary>
    public static readonly string[] Keys =
        ["dataset", "models", "latent_dims", "betas", "seeds", "epochs", "batch_size", "lr", "train_size", "test_size", "binarize", "threads", "iwae_k", "arch",
         "priors", "prior_components", "sampler", "sampler_components", "posteriors", "flow_steps", "tc_weights", "gammas", "precision"];

    /// <summary>What <see cref="Precision"/> asks for (auto when empty).</summary>
    public Runtime.PrecisionChoice PrecisionChoice => Precision is null ? Runtime.PrecisionChoice.Auto : Runtime.Precisions.ParseChoice(Precision);

    /// <summary>The model kinds a sweep may name besides the presets.</summary>
    public static ModelConfig Preset(string name) => name switch
    {
        "vae" => ModelRegistry.Get("vae_32d"),
        "ae" => ModelRegistry.Get("ae_32d"),
        _ => ModelRegistry.Presets.FirstOrDefault(p => p.Name == name)
             ?? throw new LatentLabException($"unknown model '{name}'; known: vae, ae, {string.Join(", ", ModelRegistry.Names)}"),
    };

    /// <summary>Checks every value; <paramref name="source"/> names where they came from in the one-line error.</summary>
    public SweepSpec Validate(string source)
    {
        string In(string key) => $"{source}: {key}";
        if (string.IsNullOrWhiteSpace(Dataset)) throw new LatentLabException($"{In("dataset")} is empty");
        if (Models.Count == 0) throw new LatentLabException($"{In("models")} is empty: name at least one model");
        if (Seeds.Count == 0) throw new LatentLabException($"{In("seeds")} is empty: give at least one seed");
        if (Betas.Count == 0) throw new LatentLabException($"{In("betas")} is empty: give at least one beta (1 is the plain VAE)");
        foreach (var model in Models)
        {
            try { Preset(model); }
            catch (LatentLabException e) { throw new LatentLabException($"{In("models")}: {e.Message}"); }
        }
        foreach (var z in LatentDims)
            if (z is < 1 or > 4096) throw new LatentLabException($"{In("latent_dims")}: {z} is not a latent size between 1 and 4096");
        foreach (var beta in Betas)
            if (!double.IsFinite(beta) || beta <= 0) throw new LatentLabException($"{In("betas")}: {beta.ToString(CultureInfo.InvariantCulture)} is not a beta > 0");
        Dup(Models, "models"); Dup(LatentDims, "latent_dims"); Dup(Betas, "betas"); Dup(Seeds, "seeds");
        if (Epochs is < 1 or > Training.TrainingConfig.MaxEpochs) throw new LatentLabException($"{In("epochs")} must be between 1 and {Training.TrainingConfig.MaxEpochs}, got {Epochs}");
        if (BatchSize < 1) throw new LatentLabException($"{In("batch_size")} must be positive, got {BatchSize}");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0) throw new LatentLabException($"{In("lr")} must be a number > 0, got {LearningRate.ToString(CultureInfo.InvariantCulture)}");
        if (TrainSize is < 1) throw new LatentLabException($"{In("train_size")} must be positive, got {TrainSize}");
        if (TestSize is < 1) throw new LatentLabException($"{In("test_size")} must be positive, got {TestSize}");
        if (Threads is < 1) throw new LatentLabException($"{In("threads")} must be positive, got {Threads}");
        if (IwaeK < 0) throw new LatentLabException($"{In("iwae_k")} must be 0 (skip) or more, got {IwaeK}");
        foreach (var prior in Priors ?? [])
        {
            try { LatentLab.Models.Priors.PriorRegistry.Get(prior); }
            catch (LatentLabException e) { throw new LatentLabException($"{In("priors")}: {e.Message}"); }
        }
        if (Priors is not null) Dup(Priors, "priors");
        if (PriorComponents is < 1 or > ModelConfig.MaxPriorComponents)
            throw new LatentLabException($"{In("prior_components")} must be between 1 and {ModelConfig.MaxPriorComponents:N0}, got {PriorComponents}");
        if (Sampler is not null)
        {
            try { LatentLab.Models.Samplers.SamplerRegistry.Get(Sampler); }
            catch (LatentLabException e) { throw new LatentLabException($"{In("sampler")}: {e.Message}"); }
        }
        if (SamplerComponents is < 1 or > ModelConfig.MaxSamplerComponents)
            throw new LatentLabException($"{In("sampler_components")} must be between 1 and {ModelConfig.MaxSamplerComponents:N0}, got {SamplerComponents}");
        foreach (var posterior in Posteriors ?? [])
        {
            try { LatentLab.Models.Posteriors.PosteriorRegistry.Get(posterior); }
            catch (LatentLabException e) { throw new LatentLabException($"{In("posteriors")}: {e.Message}"); }
        }
        if (Posteriors is not null) Dup(Posteriors, "posteriors");
        if (FlowSteps is < 1 or > ModelConfig.MaxFlowSteps)
            throw new LatentLabException($"{In("flow_steps")} must be between 1 and {ModelConfig.MaxFlowSteps}, got {FlowSteps}");
        foreach (var tc in TcWeights ?? [])
            if (!double.IsFinite(tc) || tc < 0 || tc > ModelConfig.MaxTcWeight)
                throw new LatentLabException($"{In("tc_weights")}: {tc.ToString(CultureInfo.InvariantCulture)} is not a weight between 0 and {ModelConfig.MaxTcWeight}");
        if (TcWeights is not null) Dup(TcWeights, "tc_weights");
        foreach (var gamma in Gammas ?? [])
            if (!double.IsFinite(gamma) || gamma < 0 || gamma > ModelConfig.MaxTcWeight)
                throw new LatentLabException($"{In("gammas")}: {gamma.ToString(CultureInfo.InvariantCulture)} is not a weight between 0 and {ModelConfig.MaxTcWeight}");
        if (Gammas is not null) Dup(Gammas, "gammas");
        if (Precision is not null)
        {
            try { Runtime.Precisions.ParseChoice(Precision); }
            catch (LatentLabException) { throw new LatentLabException($"{In("precision")} must be fp32, bf16 or auto, got '{Precision}'"); }
        }
        return this;

        void Dup<T>(IReadOnlyList<T> values, string key)
        {
            var twice = values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null) throw new LatentLabException($"{In(key)} names {Convert.ToString(twice.Key, CultureInfo.InvariantCulture)} twice");
        }
    }

    /// <summary>Reads a sweep file. Unknown keys, wrong types and bad values are refused with one line naming the file,
    /// the key and its line.</summary>
    public static SweepSpec ReadYaml(string path)
    {
        if (!File.Exists(path)) throw new LatentLabException($"{path}: file not found");
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new LatentLabException($"{path}: not valid YAML (line {e.Start.Line}: {e.Message})");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new LatentLabException($"{path}: expected one mapping of keys ({string.Join(", ", Keys)})");

        var values = new Dictionary<string, YamlNode>();
        foreach (var (keyNode, value) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!Keys.Contains(key))
            {
                var near = Keys.MinBy(k => Distance(k, key));
                throw new LatentLabException($"{path}: unknown key '{key}' (line {keyNode.Start.Line}){(Distance(near!, key) <= 3 ? $"; did you mean '{near}'?" : "")} Known keys: {string.Join(", ", Keys)}");
            }
            values[key] = value;
        }

        string Where(string key) => $"{path}: {key} (line {values[key].Start.Line})";
        string Text(string key) => (values[key] as YamlScalarNode)?.Value ?? throw new LatentLabException($"{Where(key)} must be a single value");
        T? Optional<T>(string key, Func<string, T?> parse, string what) where T : struct =>
            !values.ContainsKey(key) ? null : parse(Text(key)) ?? throw new LatentLabException($"{Where(key)}: '{Text(key)}' is not {what}");
        IReadOnlyList<T> List<T>(string key, Func<string, T?> parse) where T : struct
        {
            if (!values.TryGetValue(key, out var node)) return [];
            var items = node switch
            {
                YamlSequenceNode seq => seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? ""),
                YamlScalarNode s => (s.Value ?? "").Split(',', StringSplitOptions.TrimEntries),
                _ => throw new LatentLabException($"{Where(key)} must be a list"),
            };
            return items.Select(text => parse(text) ?? throw new LatentLabException($"{Where(key)}: '{text}' is not a {(typeof(T) == typeof(double) ? "number" : "whole number")}")).ToList();
        }
        IReadOnlyList<string> Strings(string key) => !values.TryGetValue(key, out var node) ? []
            : node switch
            {
                YamlSequenceNode seq => seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? "").ToList(),
                YamlScalarNode s => (s.Value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                _ => throw new LatentLabException($"{Where(key)} must be a list"),
            };
        static int? Int(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        static long? Long(string s) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        static double? Double(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
        static bool? Bool(string s) => s switch { "true" or "True" or "yes" => true, "false" or "False" or "no" => false, _ => null };

        const string whole = "a whole number", number = "a number";
        var spec = new SweepSpec(
            values.ContainsKey("dataset") ? Text("dataset") : "mnist",
            Strings("models"),
            List<int>("latent_dims", Int),
            values.ContainsKey("betas") ? List<double>("betas", Double) : [1.0],
            values.ContainsKey("seeds") ? List<long>("seeds", Long) : [0L],
            Optional("epochs", Int, whole) ?? 30,
            Optional("batch_size", Int, whole) ?? 128,
            Optional("lr", Double, number) ?? 1e-3,
            Optional("train_size", Int, whole),
            Optional("test_size", Int, whole),
            Optional("binarize", Bool, "true or false") ?? false,
            Optional("threads", Int, whole),
            Optional("iwae_k", Int, whole) ?? 100,
            Optional("arch", s => s switch { "mlp" => Architecture.Mlp, "conv" => Architecture.Conv, _ => (Architecture?)null }, "mlp or conv") ?? Architecture.Mlp,
            values.ContainsKey("priors") ? Strings("priors") : null,
            Optional("prior_components", Int, whole),
            values.ContainsKey("sampler") ? Text("sampler") : null,
            Optional("sampler_components", Int, whole),
            values.ContainsKey("posteriors") ? Strings("posteriors") : null,
            Optional("flow_steps", Int, whole),
            values.ContainsKey("tc_weights") ? List<double>("tc_weights", Double) : null,
            values.ContainsKey("gammas") ? List<double>("gammas", Double) : null,
            values.ContainsKey("precision") ? Text("precision") : null);
        return spec.Validate(path);
    }

    /// <summary>The sweep file of this grid.</summary>
    public string ToYaml()
    {
        static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
        var lines = new List<string>
        {
            "# A LatentLab sweep: `latent sweep plan NAME --file THIS_FILE`. Every point is models x latent_dims x betas x seeds",
            "# (an AE, which has no KL term, once per latent size and seed). Keys: " + string.Join(", ", Keys) + ".",
            $"dataset: {Quote(Dataset)}",
            $"models: [{string.Join(", ", Models)}]",
            $"latent_dims: [{string.Join(", ", LatentDims)}]",
            $"betas: [{string.Join(", ", Betas.Select(N))}]",
            $"seeds: [{string.Join(", ", Seeds)}]",
            $"epochs: {Epochs}",
            $"batch_size: {BatchSize}",
            $"lr: {N(LearningRate)}",
        };
        if (TrainSize is { } train) lines.Add($"train_size: {train}");
        if (TestSize is { } test) lines.Add($"test_size: {test}");
        lines.Add($"binarize: {(Binarize ? "true" : "false")}");
        if (Threads is { } threads) lines.Add($"threads: {threads}");
        lines.Add($"iwae_k: {IwaeK}");
        lines.Add($"arch: {Arch.ToString().ToLowerInvariant()}");
        if (Priors is not null) lines.Add($"priors: [{string.Join(", ", Priors)}]");
        if (PriorComponents is { } pk) lines.Add($"prior_components: {pk}");
        if (Sampler is not null) lines.Add($"sampler: {Sampler}");
        if (SamplerComponents is { } sk) lines.Add($"sampler_components: {sk}");
        if (Posteriors is not null) lines.Add($"posteriors: [{string.Join(", ", Posteriors)}]");
        if (FlowSteps is { } fs) lines.Add($"flow_steps: {fs}");
        if (TcWeights is not null) lines.Add($"tc_weights: [{string.Join(", ", TcWeights.Select(N))}]");
        if (Gammas is not null) lines.Add($"gammas: [{string.Join(", ", Gammas.Select(N))}]");
        if (Precision is not null) lines.Add($"precision: {Precision}");
        return string.Join("\n", lines) + "\n";
    }

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
