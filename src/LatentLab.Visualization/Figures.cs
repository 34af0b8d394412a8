using LatentLab.Data;
using LatentLab.Training;
using ScottPlot;
using SkiaSharp;
using LatentLab.Storage;

namespace LatentLab.Visualization;

/// <summary>2-d points with a class label each (test latents, a projection of them, or a t-SNE embedding).</summary>
public sealed record LabelledPoints(double[] X, double[] Y, int[] Labels, IReadOnlyList<string> ClassNames)
{
    public int Count => X.Length;
}

/// <summary>The still figures, each a pure function from numbers to a bitmap; <see cref="Visualizer"/> feeds them.</summary>
public static class Figures
{
    public const int Width = 900, Height = 760;

    /// <summary>Points coloured by class with a legend on the right; square units so distances read true.</summary>
    public static Plot Scatter(string title, string xLabel, string yLabel, LabelledPoints points, float markerSize = 3)
    {
        var plot = Theme.NewPlot(title, xLabel, yLabel);
        for (int c = 0; c < points.ClassNames.Count; c++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < points.Count; i++)
                if (points.Labels[i] == c) { xs.Add(points.X[i]); ys.Add(points.Y[i]); }
            if (xs.Count == 0) continue;
            var scatter = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray(), Theme.ClassColor(c));
            scatter.MarkerSize = markerSize;
            scatter.LegendText = points.ClassNames[c];
        }
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = Theme.TickSize;
        plot.Legend.SymbolWidth = 12;
        return plot;
    }

    /// <summary>Images (grey or colour) as one grid of tiles. With <paramref name="extent"/>, the tiles sit over those
    /// axis coordinates (the decoded manifold over the latent plane); without it, axes show no numbers.</summary>
    public static Plot Images(string title, string xLabel, string yLabel, float[] pixels, ImageShape shape, int columns,
        CoordinateRect? extent = null, int gap = 0)
    {
        var plot = Theme.NewPlot(title, xLabel, yLabel);
        // Tiles at an integer scale that makes the grid about as large as it is shown (~800 pixels), so that drawing it
        // resamples by a factor near 1 and every gap between tiles comes out equally wide.
        int rows = (pixels.Length / shape.Pixels + columns - 1) / columns;
        int naturalWidth = columns * shape.Width + (columns + 1) * gap, naturalHeight = rows * shape.Height + (rows + 1) * gap;
        int scale = Math.Max(1, 800 / Math.Max(naturalWidth, naturalHeight));
        var tiles = ImageGrid.Tiles(pixels, shape, columns, scale, gap * scale);
        plot.Add.Plottable(new BitmapRect(tiles, extent ?? new CoordinateRect(0, naturalWidth, 0, naturalHeight)));
        if (extent is null)
        {
            plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
            plot.Axes.Left.TickLabelStyle.IsVisible = false;
            plot.Axes.Bottom.MajorTickStyle.Length = 0;
            plot.Axes.Left.MajorTickStyle.Length = 0;
            plot.Axes.Bottom.MinorTickStyle.Length = 0;
            plot.Axes.Left.MinorTickStyle.Length = 0;
        }
        plot.Axes.SquareUnits();
        plot.Axes.Margins(0, 0);
        return plot;
    }

    /// <summary>Per-dimension histograms of codes (density) against the N(0, 1) density, one small panel each.</summary>
    public static SKBitmap Histograms(string title, double[][] dimensions, int maxPanels = 32)
    {
        int panels = Math.Min(maxPanels, dimensions.Length);
        int columns = panels <= 2 ? panels : panels <= 8 ? 4 : 8;
        int rows = (panels + columns - 1) / columns;
        const int panelWidth = 300, panelHeight = 230, header = 60;
        var bitmap = Raster.Blank(columns * panelWidth, rows * panelHeight + header);
        using var canvas = new SKCanvas(bitmap);
        using (var font = Theme.Font(Theme.TitleSize, bold: true))
            Raster.CenteredText(canvas, title, bitmap.Width / 2f, 38, font, maxWidth: bitmap.Width - 20);
        for (int d = 0; d < panels; d++)
        {
            var values = dimensions[d];
            var plot = Theme.NewPlot($"z{d + 1}", d / columns == rows - 1 ? "value" : "", d % columns == 0 ? "density" : "");
            plot.Axes.Title.Label.FontSize = Theme.LabelSize;
            double lo = Math.Min(-4, Quantile(values, 0.005)), hi = Math.Max(4, Quantile(values, 0.995));
            const int bins = 40;
            double width = (hi - lo) / bins;
            var counts = new double[bins];
            foreach (var v in values)
                if (v >= lo && v <= hi) counts[Math.Min(bins - 1, (int)((v - lo) / width))]++;
            var bars = new List<Bar>();
            for (int b = 0; b < bins; b++)
                bars.Add(new Bar { Position = lo + (b + 0.5) * width, Value = counts[b] / (values.Length * width), Size = width,
                    FillColor = Colors.SteelBlue.WithAlpha(0.7), LineWidth = 0 });
            plot.Add.Bars(bars);
            var xs = Enumerable.Range(0, 201).Select(i => lo + (hi - lo) * i / 200).ToArray();
            var normal = plot.Add.ScatterLine(xs, xs.Select(x => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI)).ToArray(), Colors.OrangeRed);
            normal.LineWidth = 2;
            if (d == 0) { normal.LegendText = "N(0, 1)"; plot.ShowLegend(Alignment.UpperRight); plot.Legend.FontSize = 11; }
            plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
            plot.Axes.Left.TickLabelStyle.FontSize = 11;
            plot.Axes.Margins(bottom: 0);
            float left = (d % columns) * panelWidth, top = header + (d / columns) * panelHeight;
            Raster.Draw(canvas, plot, new SKRect(left, top, left + panelWidth, top + panelHeight));
        }
        return bitmap;
    }

    /// <summary>Mean KL(q(z_i|x) || N(0, 1)) per latent dimension, in nats.</summary>
    public static Plot KlPerDim(string title, double[] klPerDim)
    {
        var plot = Theme.NewPlot(title, "latent dimension", "KL per dimension (nats)");
        var bars = klPerDim.Select((kl, i) => new Bar { Position = i + 1, Value = kl, Size = 0.8, FillColor = Colors.SteelBlue, LineWidth = 0 }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Margins(bottom: 0);
        if (klPerDim.Length <= 32)
            plot.Axes.Bottom.SetTicks(Enumerable.Range(1, klPerDim.Length).Select(i => (double)i).ToArray(),
                Enumerable.Range(1, klPerDim.Length).Select(i => klPerDim.Length > 16 && i % 2 == 0 ? "" : i.ToString()).ToArray());
        return plot;
    }

    /// <summary>Train and test loss per epoch.</summary>
    public static Plot TrainingCurves(string title, IReadOnlyList<EpochRecord> history, string lossName)
    {
        var plot = Theme.NewPlot(title, "epoch", lossName);
        var epochs = history.Select(r => (double)r.Epoch).ToArray();
        var train = plot.Add.Scatter(epochs, history.Select(r => r.TrainLoss).ToArray(), Theme.ClassColor(0));
        train.LegendText = "train (mean over the epoch's batches)";
        train.LineWidth = 2;
        train.MarkerSize = 6;
        var test = plot.Add.Scatter(epochs, history.Select(r => r.TestLoss).ToArray(), Theme.ClassColor(1));
        test.LegendText = "test (after the epoch)";
        test.LineWidth = 2;
        test.MarkerSize = 6;
        plot.ShowLegend(Alignment.UpperRight);
        plot.Legend.FontSize = Theme.TickSize;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>The value below which a fraction <paramref name="q"/> of <paramref name="values"/> lie (linear interpolation).</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return 0;
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position), above = Math.Min(sorted.Length - 1, below + 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}

/// <summary>A bitmap drawn over a rectangle of axis coordinates, pixel for pixel (nearest-neighbour scaling), so
/// colour images can sit on a plot's axes (ScottPlot's heatmap draws one channel only).</summary>
sealed class BitmapRect(SKBitmap bitmap, CoordinateRect rect) : IPlottable
{
    readonly SKImage _image = SKImage.FromBitmap(bitmap);

    public bool IsVisible { get; set; } = true;
    public IAxes Axes { get; set; } = new Axes();
    public IEnumerable<LegendItem> LegendItems => LegendItem.None;
    public AxisLimits GetAxisLimits() => new(rect);

    public void Render(RenderPack rp)
    {
        var pixels = Axes.GetPixelRect(rect);
        rp.Canvas.DrawImage(_image, new SKRect(pixels.Left, pixels.Top, pixels.Right, pixels.Bottom), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
    }
}
