using LatentLab.Analysis;
using ScottPlot;
using SkiaSharp;

namespace LatentLab.Visualization;

/// <summary>figures/prior_and_posterior.png of a 2-d VAE: on the left the prior's density as contours under the test
/// codes and the 1-sigma ellipses of q(z|x) for the first images, coloured by class; on the right the aggregate
/// posterior q(z) beside p(z). Plain numbers in (<see cref="PriorPosteriorPicture"/>), a bitmap out.</summary>
public static class PriorPosteriorFigure
{
    public const int PanelWidth = 900, PanelHeight = 800, Header = 70;

    public static SKBitmap Draw(PriorPosteriorPicture p, IReadOnlyList<string> classNames)
    {
        var bitmap = Raster.Blank(2 * PanelWidth, PanelHeight + Header);
        using var canvas = new SKCanvas(bitmap);
        using var font = Theme.Font(Theme.LabelSize, bold: true);
        Raster.CenteredText(canvas, Sentence(p), PanelWidth, 40, font, maxWidth: 2 * PanelWidth - 40);
        Raster.Draw(canvas, PriorPanel(p, classNames), new SKRect(0, Header, PanelWidth, Header + PanelHeight));
        Raster.Draw(canvas, AggregatePanel(p), new SKRect(PanelWidth, Header, 2 * PanelWidth, Header + PanelHeight));
        return bitmap;
    }

    /// <summary>The figure's sentence, from its numbers.</summary>
    public static string Sentence(PriorPosteriorPicture p) =>
        $"{p.Model}: KL(q(z) ‖ p(z)) ≈ {p.KlAggregateToPrior:0.00} nats of the mean KL(q(z|x) ‖ p(z)) = {p.MeanKl:0.00} " +
        $"({p.KlAggregateToPrior / Math.Max(p.MeanKl, 1e-12):P0}); the rest is the codes' information about the image";

    /// <summary>p(z) as contours, the test codes as dots, and the 1-sigma ellipses of q(z|x).</summary>
    public static Plot PriorPanel(PriorPosteriorPicture p, IReadOnlyList<string> classNames)
    {
        var plot = Theme.NewPlot($"p(z) = {p.PriorDescription} under the test codes", "z1", "z2 (contours: 20, 40, 60, 80 % of the mass)");
        AddContours(plot, p.Prior, Colors.Black.WithAlpha(0.55), LinePattern.Solid);
        for (int i = 0; i < p.CodeX.Length; i++)
        {
            var dot = plot.Add.Marker(p.CodeX[i], p.CodeY[i], MarkerShape.FilledCircle, 2.5f, Theme.ClassColor(p.Labels[i]).WithAlpha(0.35));
            dot.LegendText = "";
        }
        for (int i = 0; i < p.Ellipses; i++)
        {
            var ellipse = plot.Add.Ellipse(p.CodeX[i], p.CodeY[i], p.SdX[i], p.SdY[i]);
            ellipse.LineColor = Theme.ClassColor(p.Labels[i]);
            ellipse.LineWidth = 1.5f;
            ellipse.FillColor = Theme.ClassColor(p.Labels[i]).WithAlpha(0.08);
        }
        for (int c = 0; c < classNames.Count; c++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = classNames[c], MarkerShape = MarkerShape.FilledCircle, MarkerFillColor = Theme.ClassColor(c), MarkerSize = 9 });
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = Theme.TickSize;
        Limits(plot, p.Prior);
        plot.Axes.SquareUnits();
        return plot;
    }

    /// <summary>The aggregate posterior's contours (coloured) over the prior's (grey, dashed).</summary>
    public static Plot AggregatePanel(PriorPosteriorPicture p)
    {
        var plot = Theme.NewPlot($"q(z), the mean of q(z|x) over {p.AggregateImages:N0} test images, and p(z)", "z1", "z2 (contours: 20, 40, 60, 80 % of the mass)");
        AddContours(plot, p.Prior, Colors.Gray.WithAlpha(0.8), LinePattern.Dashed);
        AddContours(plot, p.Aggregate, Colors.Crimson, LinePattern.Solid);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "q(z), aggregate posterior", LineColor = Colors.Crimson, LineWidth = 2 });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "p(z), prior", LineColor = Colors.Gray, LineWidth = 2, LinePattern = LinePattern.Dashed });
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = Theme.TickSize;
        Limits(plot, p.Prior);
        plot.Axes.SquareUnits();
        return plot;
    }

    /// <summary>Contours of the highest-density regions: each grid point carries the share of the grid's mass whose density
    /// is at least its own, and the lines are levels of that share, so they enclose about 20, 40, 60 and 80 % of the mass
    /// whatever the density's shape (a log-density's levels crowd where it is flat).</summary>
    static void AddContours(Plot plot, DensityGrid grid, Color color, LinePattern pattern)
    {
        int rows = grid.Y.Length, columns = grid.X.Length;
        double max = double.NegativeInfinity;
        foreach (var v in grid.LogDensity) if (double.IsFinite(v)) max = Math.Max(max, v);
        var mass = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) mass[i * columns + j] = Math.Exp(grid.LogDensity[i, j] - max);
        var order = Enumerable.Range(0, mass.Length).OrderByDescending(k => mass[k]).ToArray();
        double total = mass.Sum(), running = 0;
        var share = new double[mass.Length];
        foreach (int k in order) { running += mass[k]; share[k] = running / total; }
        var cs = new Coordinates3d[rows, columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) cs[i, j] = new Coordinates3d(grid.X[j], grid.Y[i], share[i * columns + j]);
        var lines = plot.Add.ContourLines(cs, count: 4);
        lines.LineColor = color;
        lines.LineWidth = 1.5f;
        lines.LinePattern = pattern;
        lines.LabelStyle.IsVisible = false;
    }

    static void Limits(Plot plot, DensityGrid grid) => plot.Axes.SetLimits(grid.X[0], grid.X[^1], grid.Y[0], grid.Y[^1]);
}
