using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Models;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Visualization.Report;

/// <summary>One model's entry in comparison.json: what it is, how it was trained, and what it measured.</summary>
/// <param name="PriorGapNats">KL(N(mean, covariance of the test codes) || N(0, I)), see <see cref="Analysis.PriorGap"/>.</param>
/// <param name="Figures">Files under the run folder, relative to the dataset folder (where the reports are).</param>
public sealed record ModelResult(
    string Name,
    ModelConfig Model,
    TrainingConfig Training,
    int EpochsTrained,
    double TrainingSeconds,
    double FinalTrainLoss,
    double FinalTestLoss,
    double PriorGapNats,
    Metrics Metrics,
    IReadOnlyList<string> Figures,
    IReadOnlyList<string> Animations)
{
    public bool IsVae => Model.Kind == ModelKind.Vae;
}

/// <summary>A VAE and an AE with the same latent dimension, and what their numbers say.</summary>
public sealed record PairFinding(int LatentDim, string Vae, string Ae, IReadOnlyList<string> Sentences);

/// <summary>comparison.json: every model's numbers side by side, the findings drawn from them, and the side-by-side
/// figures (<see cref="Comparisons.SideBySide"/>) with their sentences.</summary>
public sealed record Comparison(string Dataset, DateTime CreatedUtc, IReadOnlyList<ModelResult> Models, IReadOnlyList<PairFinding> Pairs,
    IReadOnlyList<Comparisons.ComparisonFigure>? SideBySide = null)
{
    public const string FileName = "comparison.json";

    /// <summary>Reads what train, evaluate and visualize left in each run folder.</summary>
    public static ModelResult Collect(RunFolder folder, double priorGapNats)
    {
        var record = folder.ReadRecord();
        if (!File.Exists(folder.MetricsPath)) throw new LatentLabException($"no metrics.json in {folder.Root}; run 'latent evaluate' first");
        var metrics = Json.ReadFile<Metrics>(folder.MetricsPath);
        var history = History.Read(folder.HistoryPath);
        string datasetFolder = Path.GetDirectoryName(folder.Root)!;
        // The order latent visualize draws them in: the latent space first, then images, then diagnostics.
        var order = Visualizer.ExpectedFiles(record.Model, hasSnapshots: true).Select(Path.GetFileName).ToList();
        IReadOnlyList<string> Files(string dir, string pattern) => Directory.Exists(dir)
            ? Directory.GetFiles(dir, pattern).Where(f => !Path.GetFileName(f).StartsWith('.'))
                .OrderBy(f => order.IndexOf(Path.GetFileName(f)) is var i and >= 0 ? i : order.Count).ThenBy(f => f, StringComparer.Ordinal)
                .Select(f => Path.GetRelativePath(datasetFolder, f).Replace('\\', '/')).ToList()
            : [];
        return new ModelResult(record.Model.Name, record.Model, record.Training, history.Count, history.Sum(h => h.Seconds),
            history.Count > 0 ? history[^1].TrainLoss : double.NaN, history.Count > 0 ? history[^1].TestLoss : double.NaN,
            priorGapNats, metrics, Files(folder.FiguresDir, "*.png"), Files(folder.AnimationsDir, "*.gif"));
    }

    public static Comparison Create(string dataset, IReadOnlyList<ModelResult> models, IReadOnlyList<Comparisons.ComparisonFigure>? sideBySide = null) =>
        new(dataset, DateTime.UtcNow, models, Findings.ForPairs(models), sideBySide ?? []);
}
