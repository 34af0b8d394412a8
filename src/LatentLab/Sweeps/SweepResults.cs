using System.Globalization;
using System.Text;
using LatentLab.Evaluation;
using LatentLab.IO;

namespace LatentLab.Sweeps;

/// <summary>A finished point with what it measured.</summary>
public sealed record SweepRow(SweepPoint Point, Metrics Metrics);

/// <summary>Every finished point of a sweep with its metrics, and the points not finished (listed, never dropped
/// silently).</summary>
public sealed record SweepResults(SweepPlan Plan, IReadOnlyList<SweepRow> Rows, IReadOnlyList<SweepPoint> Missing)
{
    public const string CsvName = "sweep.csv";

    /// <summary>The metric columns of sweep.csv: what metrics.json measured, no timings (they differ between runs of
    /// the same point, the numbers do not).</summary>
    public static readonly (string Name, Func<Metrics, double?> Value)[] MetricColumns =
    [
        ("test_mse", m => m.TestMse),
        ("test_ssim", m => m.TestSsim),
        ("test_psnr", m => m.TestPsnr),
        ("test_bce", m => m.TestBce),
        ("test_elbo", m => m.TestElbo),
        ("test_kl", m => m.TestKl),
        ("test_log_px_iwae", m => m.TestLogPxIwae),
        ("iwae_k", m => m.IwaeK),
        ("active_units", m => m.ActiveUnits),
        ("knn_accuracy", m => m.KnnAccuracy),
        ("linear_probe_accuracy", m => m.LinearProbeAccuracy),
        ("sample_frechet", m => m.SampleFrechet),
        ("recon_frechet", m => m.ReconFrechet),
        ("frechet_train_test", m => m.FrechetTrainTest),
        ("mig", m => m.Disentanglement?.Mig),
        ("sap", m => m.Disentanglement?.Sap),
        ("dci_disentanglement", m => m.Disentanglement?.DciDisentanglement),
        ("dci_completeness", m => m.Disentanglement?.DciCompleteness),
        ("dci_informativeness", m => m.Disentanglement?.DciInformativeness),
        ("beta_vae_score", m => m.Disentanglement?.BetaVaeScore),
        ("factor_vae_score", m => m.Disentanglement?.FactorVaeScore),
    ];

    public static SweepResults Gather(string sweepFolder, SweepPlan plan)
    {
        var rows = new List<SweepRow>();
        var missing = new List<SweepPoint>();
        foreach (var point in plan.Points)
        {
            if (SweepRunner.IsDone(sweepFolder, point, plan.Spec.IwaeK))
                rows.Add(new SweepRow(point, Json.ReadFile<Metrics>(SweepRunner.FolderOf(sweepFolder, point).MetricsPath)));
            else missing.Add(point);
        }
        return new SweepResults(plan, rows, missing);
    }

    /// <summary>One row per finished point: its axes, then every metric (empty where a kind has none: an AE's KL).</summary>
    public string ToCsv()
    {
        static string N(double? v) => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(",", new[] { "index", "model", "kind", "latent_dim", "beta", "tc_weight", "gamma", "seed", "epochs", "folder" }.Concat(MetricColumns.Select(c => c.Name))));
        foreach (var (p, m) in Rows)
            csv.AppendLine(string.Join(",", new[] { p.Index.ToString(CultureInfo.InvariantCulture), p.Config.Name, p.Kind.ToString().ToLowerInvariant(),
                p.LatentDim.ToString(CultureInfo.InvariantCulture), N(p.Beta), N(p.Config.TcWeight), N(p.Config.Gamma), p.Seed.ToString(CultureInfo.InvariantCulture),
                p.Training.Epochs.ToString(CultureInfo.InvariantCulture), p.Folder }.Concat(MetricColumns.Select(c => N(c.Value(m))))));
        return csv.ToString();
    }
}
