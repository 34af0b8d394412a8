using System.Globalization;
using LatentLab.Models;
using LatentLab.Sweeps;
using ScottPlot;
using SkiaSharp;

namespace LatentLab.Visualization.Sweeps;

/// <summary>The figures of a collected sweep: the rate-distortion plane of its VAEs (Alemi et al. 2018, "Fixing a Broken
/// ELBO") and each metric against latent size for VAE and AE, the seeds' spread as error bars.</summary>
public static class SweepFigures
{
    public const string RateDistortion = "rate_distortion.png", ByLatentSize = "metrics_by_latent_size.png", MigReconstruction = "mig_reconstruction.png";

    /// <summary>Draws what the results allow into <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Draw(SweepResults results, string folder)
    {
        var written = new List<string>();
        string note = results.Missing.Count > 0 ? $" ({results.Rows.Count} of {results.Plan.Points.Count} points; {results.Missing.Count} missing)" : "";
        var vaes = results.Rows.Where(r => r.Point.Kind == ModelKind.Vae && r.Metrics.TestElbo is not null && r.Metrics.TestKl is not null).ToList();
        if (vaes.Count > 0)
        {
            using var bitmap = Raster.Render(RatePlane(vaes, results.Plan.Name + note), 1000, 800);
            Raster.SavePng(bitmap, Path.Combine(folder, RateDistortion));
            written.Add(Path.Combine(folder, RateDistortion));
        }
        var scored = results.Rows.Where(r => r.Metrics.Disentanglement is not null).ToList();
        if (scored.Count > 0)
        {
            using var bitmap = Raster.Render(MigAgainstReconstruction(scored, results.Plan.Name + note), 1000, 750);
            Raster.SavePng(bitmap, Path.Combine(folder, MigReconstruction));
            written.Add(Path.Combine(folder, MigReconstruction));
        }
        if (results.Rows.Count > 0)
        {
            using var bitmap = MetricsByLatentSize(results, note);
            Raster.SavePng(bitmap, Path.Combine(folder, ByLatentSize));
            written.Add(Path.Combine(folder, ByLatentSize));
        }
        return written;
    }

    static string B(double? beta) => beta is { } b ? b.ToString("0.###", CultureInfo.InvariantCulture) : "-";

    /// <summary>Rate = KL(q(z|x) || p(z)), distortion = E_q[-log p(x|z)] = -ELBO - rate, both nats per test image (means
    /// over seeds; each seed a small dot). One curve per latent size through its betas; dashed lines of constant ELBO.</summary>
    static Plot RatePlane(IReadOnlyList<SweepRow> vaes, string name)
    {
        var plot = Theme.NewPlot($"Rate and distortion of the VAEs: {name}", "rate: KL(q(z|x) || p(z)), nats per image",
            "distortion: E_q[-log p(x|z)], nats per image");
        double Rate(SweepRow r) => r.Metrics.TestKl!.Value;
        double Distortion(SweepRow r) => -r.Metrics.TestElbo!.Value - r.Metrics.TestKl!.Value;
        var dims = vaes.Select(r => r.Point.LatentDim).Distinct().Order().ToList();
        double maxR = vaes.Max(Rate), maxD = vaes.Max(Distortion), minD = vaes.Min(Distortion);

        double xMax = maxR * 1.12 + 1e-9, yMin = Math.Max(0, minD - 0.08 * (maxD - minD + 1)), yMax = maxD + 0.12 * (maxD - minD + 1);

        // Lines of constant ELBO: rate + distortion = -ELBO, dashed, a few round levels across the points, each named
        // where it enters the plot (its top edge, or the distortion axis).
        double lo = vaes.Min(r => Rate(r) + Distortion(r)), hi = vaes.Max(r => Rate(r) + Distortion(r));
        double step = NiceStep((hi - lo) / 4);
        for (double level = Math.Floor(lo / step) * step; level <= hi + step; level += step)
        {
            var line = plot.Add.Line(0, level, level, 0);
            line.LinePattern = LinePattern.Dashed;
            line.LineColor = Colors.Gray.WithAlpha(0.6);
            line.LineWidth = 1;
            double r = Math.Max(0.01 * xMax, level - yMax);
            if (r > 0.85 * xMax || level - r < yMin) continue;
            var label = plot.Add.Text($"-ELBO = {level:0.#}", r, level - r);
            label.LabelFontSize = 11;
            label.LabelFontColor = Colors.Gray;
            label.OffsetX = 4;
            label.OffsetY = 2;
        }

        for (int i = 0; i < dims.Count; i++)
        {
            var color = Theme.ClassColor(i);
            var points = vaes.Where(r => r.Point.LatentDim == dims[i]).GroupBy(r => r.Point.Beta).OrderBy(g => g.Key)
                .Select(g => (Beta: g.Key, R: g.Average(Rate), D: g.Average(Distortion), Seeds: g.ToList())).ToList();
            foreach (var p in points)
            {
                var seeds = plot.Add.ScatterPoints(p.Seeds.Select(Rate).ToArray(), p.Seeds.Select(Distortion).ToArray(), color.WithAlpha(0.4));
                seeds.MarkerSize = 4;
            }
            var curve = plot.Add.Scatter(points.Select(p => p.R).ToArray(), points.Select(p => p.D).ToArray(), color);
            curve.LineWidth = 2;
            curve.MarkerSize = 8;
            curve.LegendText = $"latent size {dims[i]}";
            foreach (var p in points)
            {
                var text = plot.Add.Text($"β={B(p.Beta)}", p.R, p.D);
                text.LabelFontSize = 12;
                text.LabelFontColor = color;
                text.OffsetX = 6;
                text.OffsetY = -4;
            }
        }
        plot.ShowLegend(Alignment.UpperRight);
        plot.Legend.FontSize = Theme.TickSize;
        plot.Axes.SetLimits(0, xMax, yMin, yMax);
        return plot;
    }

    /// <summary>The objective of a point as its label: "VAE", "β-VAE β=4", "β-TCVAE TC weight 6", "AE".</summary>
    static string Objective(SweepRow r) =>
        r.Point.Kind != ModelKind.Vae ? "AE"
        : r.Point.Config.TcWeight is { } tc ? $"β-TCVAE, TC weight {B(tc)}"
        : r.Point.Config.Gamma is { } gamma ? $"FactorVAE, γ={B(gamma)}"
        : r.Point.Beta is { } b && b != 1 ? $"β-VAE, β={B(b)}" : "VAE";

    /// <summary>Disentanglement against reconstruction (Chen et al. 2018, fig. 5; Locatello et al. 2019): MIG of each
    /// point against its test reconstruction term, one colour per objective, every seed a dot, the seeds' mean a
    /// larger marker with the seeds' range as bars.</summary>
    static Plot MigAgainstReconstruction(IReadOnlyList<SweepRow> rows, string name)
    {
        var plot = Theme.NewPlot($"Disentanglement against reconstruction: {name}", "reconstruction: test -log p(x|z) at the mean code, nats per image",
            "MIG (higher: each factor in one dimension)");
        var groups = rows.GroupBy(Objective).OrderBy(g => g.First().Point.Config.TcWeight ?? -1).ThenBy(g => g.First().Point.Config.Gamma ?? -1)
            .ThenBy(g => g.First().Point.Beta ?? 0).ToList();
        for (int i = 0; i < groups.Count; i++)
        {
            var color = Theme.ClassColor(i);
            var g = groups[i].ToList();
            double[] x = [.. g.Select(r => r.Metrics.TestBce)], y = [.. g.Select(r => r.Metrics.Disentanglement!.Mig)];
            var seeds = plot.Add.ScatterPoints(x, y, color.WithAlpha(0.5));
            seeds.MarkerSize = 6;
            var mean = plot.Add.ScatterPoints(new[] { x.Average() }, new[] { y.Average() }, color);
            mean.MarkerSize = 14;
            mean.LegendText = $"{groups[i].Key} ({g.Count} seed{(g.Count == 1 ? "" : "s")}: MIG {y.Min():0.000} to {y.Max():0.000})";
            var bar = plot.Add.Line(x.Average(), y.Min(), x.Average(), y.Max());
            bar.LineColor = color;
            bar.LineWidth = 2;
        }
        // Upper left: the points of the objectives that reconstruct worst (right) and disentangle most (top) stay clear.
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Legend.FontSize = Theme.TickSize;
        return plot;
    }

    static double NiceStep(double raw)
    {
        if (!(raw > 0)) return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * power).First(v => v >= raw);
    }

    /// <summary>The four panels; each legend sits in the corner its curves leave free (they fall or rise with the
    /// latent size).</summary>
    static readonly (string Name, string Label, Func<SweepRow, double?> Value, Alignment Legend)[] Panels =
    [
        ("test_mse", "test MSE per pixel (lower is better)", r => r.Metrics.TestMse, Alignment.UpperRight),
        ("test_ssim", "test SSIM (higher is better)", r => r.Metrics.TestSsim, Alignment.LowerRight),
        ("test_elbo", "test ELBO, nats per image (VAE; higher is better)", r => r.Metrics.TestElbo, Alignment.LowerRight),
        ("knn_accuracy", "kNN accuracy of the codes (higher is better)", r => r.Metrics.KnnAccuracy, Alignment.LowerRight),
    ];

    /// <summary>Four panels: each metric against latent size, a line per VAE beta and one for the AE; error bars are the
    /// standard deviation over seeds.</summary>
    static SKBitmap MetricsByLatentSize(SweepResults results, string note)
    {
        const int W = 760, H = 560;
        var bitmap = Raster.Blank(2 * W, 2 * H + 50);
        using var canvas = new SKCanvas(bitmap);
        using var titleFont = Theme.Font(Theme.TitleSize, bold: true);
        Raster.CenteredText(canvas, $"Metrics by latent size: {results.Plan.Name}{note}", W, 34, titleFont, maxWidth: 2 * W - 40);
        var series = results.Rows.GroupBy(r => r.Point.Kind == ModelKind.Vae ? $"VAE, β = {B(r.Point.Beta)}" : "AE")
            .OrderBy(g => g.Key == "AE" ? 1 : 0).ThenBy(g => g.First().Point.Beta ?? 0).ToList();
        for (int k = 0; k < Panels.Length; k++)
        {
            var (_, label, value, legend) = Panels[k];
            var plot = Theme.NewPlot(label, "latent size (log scale)", "");
            var dims = results.Rows.Select(r => r.Point.LatentDim).Distinct().Order().ToList();
            for (int s = 0; s < series.Count; s++)
            {
                var byDim = series[s].Where(r => value(r) is not null).GroupBy(r => r.Point.LatentDim).OrderBy(g => g.Key)
                    .Select(g => (Dim: g.Key, Values: g.Select(r => value(r)!.Value).ToArray())).ToList();
                if (byDim.Count == 0) continue;
                var xs = byDim.Select(d => Math.Log2(d.Dim)).ToArray();
                var means = byDim.Select(d => d.Values.Average()).ToArray();
                var errors = byDim.Select(d => d.Values.Length > 1 ? Math.Sqrt(d.Values.Sum(v => (v - d.Values.Average()) * (v - d.Values.Average())) / (d.Values.Length - 1)) : 0).ToArray();
                var color = series[s].Key == "AE" ? Colors.Black : Theme.ClassColor(s);
                var line = plot.Add.Scatter(xs, means, color);
                line.LineWidth = 2;
                line.MarkerSize = 7;
                line.LegendText = series[s].Key;
                if (series[s].Key == "AE") line.LinePattern = LinePattern.Dashed;
                var bars = plot.Add.ErrorBar(xs, means, errors);
                bars.LineColor = color;
            }
            plot.Axes.Bottom.SetTicks(dims.Select(d => Math.Log2(d)).ToArray(), dims.Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray());
            plot.ShowLegend(legend);
            plot.Legend.FontSize = Theme.TickSize - 1;
            Raster.Draw(canvas, plot, new SKRect(k % 2 * W, 50 + k / 2 * H, (k % 2 + 1) * W, 50 + (k / 2 + 1) * H));
        }
        return bitmap;
    }
}
