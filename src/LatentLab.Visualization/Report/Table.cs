using System.Globalization;

namespace LatentLab.Visualization.Report;

/// <summary>The metric rows both reports show: name, unit, and how to read each model's value.</summary>
public static class Table
{
    /// <summary>One row: the metric's name, its unit, which way is better, and how to print a model's value.</summary>
    public sealed record Row(string Metric, string Unit, string Better, Func<ModelResult, string> Value);

    static string F(double? v, string format) => v is { } d && double.IsFinite(d) ? d.ToString(format, CultureInfo.InvariantCulture) : "—";

    public static IReadOnlyList<Row> Rows { get; } =
    [
        new("test MSE", "per pixel", "lower", m => F(m.Metrics.TestMse, "0.00000")),
        new("test SSIM", "", "higher", m => F(m.Metrics.TestSsim, "0.0000")),
        new("test PSNR", "dB", "higher", m => F(m.Metrics.TestPsnr, "0.00")),
        new("test BCE, -log p(x|z)", "nats/image", "lower", m => F(m.Metrics.TestBce, "0.00")),
        new("test ELBO", "nats/image", "higher", m => F(m.Metrics.TestElbo, "0.00")),
        new("test KL(q(z|x) ‖ p(z))", "nats/image", "", m => F(m.Metrics.TestKl, "0.00")),
        new("log p(x) ≥ (IWAE)", "nats/image", "higher", m => m.Metrics.TestLogPxIwae is { } v ? $"{F(v, "0.00")} (k={m.Metrics.IwaeK})" : "—"),
        new("active units", "", "", m => m.Metrics.ActiveUnits is { } a ? $"{a} of {m.Model.LatentDim}" : "—"),
        new("codes' distance from N(0, I)", "nats", "lower", m => F(m.PriorGapNats, "0.00")),
        new("kNN accuracy (k=5)", "", "higher", m => F(m.Metrics.KnnAccuracy, "P2")),
        new("linear probe accuracy", "", "higher", m => F(m.Metrics.LinearProbeAccuracy, "P2")),
        new("samples' Fréchet distance (classifier features)", "", "lower", m => F(m.Metrics.SampleFrechet, "0.00")),
        new("an AE's samples' Fréchet distance by sampler", "", "lower", m => m.Metrics.SampleFrechetBySampler is { Count: > 0 } bySampler
            ? string.Join(", ", bySampler.Select(s => $"{s.Key} {F(s.Value, "0.00")}")) : "—"),
        new("reconstructions' Fréchet distance", "", "lower", m => F(m.Metrics.ReconFrechet, "0.00")),
        new("epochs", "", "", m => m.EpochsTrained.ToString(CultureInfo.InvariantCulture)),
        new("precision (training / evaluation)", "", "", m => $"{Runtime.Precisions.Name(m.Training.Precision)} / {Runtime.Precisions.Name(m.Metrics.Precision)}"),
        new("final train / test loss", "nats/image", "", m => $"{F(m.FinalTrainLoss, "0.00")} / {F(m.FinalTestLoss, "0.00")}"),
        new("training time", "s", "", m => F(m.TrainingSeconds, "0")),
    ];

    /// <summary>The models in report order: the 2-d pair, then the 32-d pair, then anything else.</summary>
    public static IReadOnlyList<ModelResult> Ordered(IEnumerable<ModelResult> models) =>
        models.OrderBy(m => m.Model.LatentDim).ThenBy(m => m.IsVae ? 0 : 1).ThenBy(m => m.Name, StringComparer.Ordinal).ToList();
}
