using LatentLab.Analysis;
using LatentLab.Data;
using ScottPlot;
using SkiaSharp;

namespace LatentLab.Visualization;

/// <summary>figures/posterior_fit.png of a 2-d VAE: for the test images whose importance-weighted estimate falls
/// furthest below the exact log p(x), the true posterior p(z|x) as a heat map under the contours of the q(z|x) the
/// encoder gives (the regions holding 39.3 % and 86.5 % of its mass: a Gaussian's 1- and 2-sigma ellipses), each with
/// its image and its three figures for log p(x).</summary>
public static class PosteriorFitFigure
{
    public const int PanelWidth = 560, PanelHeight = 560, Header = 70, Caption = 150;

    public static SKBitmap Draw(PosteriorFitPicture p, ImageShape shape, IReadOnlyList<string> classNames)
    {
        int columns = Math.Max(1, p.Shown.Length);
        var bitmap = Raster.Blank(columns * PanelWidth, Header + Caption + PanelHeight);
        using var canvas = new SKCanvas(bitmap);
        using var bold = Theme.Font(Theme.LabelSize, bold: true);
        using var regular = Theme.Font(Theme.TickSize);
        Raster.CenteredText(canvas, Sentence(p), columns * PanelWidth / 2f, 30, bold, maxWidth: columns * PanelWidth - 40);
        for (int c = 0; c < p.Shown.Length; c++)
        {
            var panel = p.Shown[c];
            var row = panel.Row;
            float left = c * PanelWidth;
            using var thumbnail = Thumbnail(panel.Pixels, shape, 4);
            canvas.DrawBitmap(thumbnail, left + 20, Header + 10);
            string label = row.Label >= 0 && row.Label < classNames.Count ? classNames[row.Label] : "";
            string[] lines =
            [
                $"test image #{row.Index} {label}".TrimEnd(),
                $"exact {row.Exact:0.00} (± {row.ExactError:0.000})",
                $"k = {p.K:N0}: {row.Estimate:0.00} ± {row.EstimateSe:0.00}",
                $"ELBO {row.Elbo:0.00}; {panel.Modes} mode{(panel.Modes == 1 ? "" : "s")}",
            ];
            float textLeft = left + 40 + thumbnail.Width;
            for (int l = 0; l < lines.Length; l++)
                canvas.DrawText(lines[l], textLeft, Header + 34 + 28 * l, SKTextAlign.Left, l == 0 ? bold : regular, new SKPaint { Color = SKColors.Black, IsAntialias = true });
            Raster.Draw(canvas, Plot(panel), new SKRect(left, Header + Caption, left + PanelWidth, Header + Caption + PanelHeight));
        }
        return bitmap;
    }

    /// <summary>The three means over the images of a posterior fit, in one sentence.</summary>
    public static string Summary(string model, IReadOnlyList<PosteriorFitRow> rows, int k)
    {
        double exact = rows.Average(r => r.Exact), estimate = rows.Average(r => r.Estimate), elbo = rows.Average(r => r.Elbo);
        var gaps = rows.Select(r => r.Exact - r.Estimate).OrderByDescending(g => g).ToArray();
        double total = gaps.Sum(), topFive = gaps.Take(5).Sum();
        return $"{model}, first {rows.Count} test images: log p(x) = {exact:0.00} (plane integral), {estimate:0.00} (k = {k:N0}), {elbo:0.00} (ELBO); " +
               $"the five largest gaps hold {topFive / rows.Count:0.00} of the {total / rows.Count:0.00} nats the estimate misses";
    }

    /// <summary>The figure's sentence, from its numbers.</summary>
    public static string Sentence(PosteriorFitPicture p)
    {
        double gap = p.MeanExact - p.MeanEstimate;
        double shownShare = p.Shown.Sum(s => s.Row.EstimateGap) / p.Rows.Length;
        return $"{p.Model}, first {p.Rows.Length} test images: log p(x) = {p.MeanExact:0.00} (plane integral), {p.MeanEstimate:0.00} " +
               $"(k = {p.K:N0}), {p.MeanElbo:0.00} (ELBO); the {p.Shown.Length} images shown carry {shownShare:0.00} of the {gap:0.00} nats the estimate misses";
    }

    /// <summary>p(z|x) as a heat map (its density relative to its peak), q(z|x)'s 1- and 2-sigma ellipses over it.</summary>
    public static Plot Plot(PosteriorPanel panel)
    {
        var grid = panel.TruePosterior;
        var plot = Theme.NewPlot("p(z|x) (heat map) and q(z|x) (39 %, 86 % regions)", "z1", "z2");
        int rows = grid.Y.Length, columns = grid.X.Length;
        double max = double.NegativeInfinity;
        foreach (var v in grid.LogDensity) max = Math.Max(max, v);
        // Row 0 of a heat map is drawn at the top: the grid's last y first.
        var density = new double[rows, columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) density[rows - 1 - i, j] = Math.Exp(grid.LogDensity[i, j] - max);
        var heat = plot.Add.Heatmap(density);
        heat.Colormap = new ScottPlot.Colormaps.Amp();   // white where p(z|x) is nil, dark red at its peak
        heat.Rectangle = new CoordinateRect(grid.X[0], grid.X[^1], grid.Y[0], grid.Y[^1]);
        // q(z|x)'s regions holding 39.3 % and 86.5 % of its mass: for a Gaussian, exactly its 1- and 2-sigma ellipses
        // (in 2-d the mass within Mahalanobis radius r is 1 - exp(-r^2 / 2)); for a flow, whatever shape it has.
        foreach (var (share, pattern) in new[] { (1 - Math.Exp(-0.5), LinePattern.Solid), (1 - Math.Exp(-2.0), LinePattern.Dashed) })
        {
            double level = Contours.Level(panel.Approximate, share);
            foreach (var (x1, y1, x2, y2) in Contours.Segments(panel.Approximate, level))
            {
                var line = plot.Add.Line(x1, y1, x2, y2);
                line.LineColor = Colors.Black;
                line.LineWidth = 2;
                line.LinePattern = pattern;
            }
        }
        plot.Axes.SetLimits(grid.X[0], grid.X[^1], grid.Y[0], grid.Y[^1]);
        plot.Axes.SquareUnits();
        return plot;
    }

    /// <summary>An image's pixels [C*H*W] in [0, 1] as a bitmap, each pixel <paramref name="scale"/> x <paramref name="scale"/>.</summary>
    static SKBitmap Thumbnail(float[] pixels, ImageShape shape, int scale)
    {
        var bitmap = new SKBitmap(shape.Width * scale, shape.Height * scale);
        int plane = shape.Height * shape.Width;
        for (int y = 0; y < shape.Height; y++)
            for (int x = 0; x < shape.Width; x++)
            {
                byte Channel(int c) => (byte)Math.Round(255 * Math.Clamp(pixels[Math.Min(c, shape.Channels - 1) * plane + y * shape.Width + x], 0, 1));
                var color = new SKColor(Channel(0), Channel(1), Channel(2));
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) bitmap.SetPixel(x * scale + dx, y * scale + dy, color);
            }
        return bitmap;
    }
}
