using LatentLab.Analysis.Disentanglement;
using LatentLab.Models;
using ScottPlot;
using static TorchSharp.torch;

namespace LatentLab.Visualization;

/// <summary>What each code dimension means, on data with known factors: the normalised mutual information between
/// dimensions and factors as a heat map, and a traversal of each active dimension labelled with the factor it knows
/// most about.</summary>
public static class FactorFigures
{
    /// <summary>Dimensions whose mean code varies over the test images by more than this variance (the active units of
    /// Burda et al. 2015): the others carry nothing to traverse.</summary>
    public const double ActiveVariance = 0.01;
    public const int MostRows = 10, Steps = 9;

    /// <summary>The active dimensions, most informative first (by their largest normalised information).</summary>
    public static int[] ActiveDimensions(Tensor codes, double[,] mi)
    {
        var variance = codes.var(0, unbiased: false).data<double>().ToArray();
        int k = mi.GetLength(1);
        return [.. Enumerable.Range(0, variance.Length).Where(j => variance[j] > ActiveVariance)
            .OrderByDescending(j => Enumerable.Range(0, k).Max(f => mi[j, f]))];
    }

    /// <summary>I(z_j; v_k) / H(v_k) for every dimension (rows) and factor (columns), 0 white to 1 dark, each cell written.</summary>
    public static Plot Information(string model, double[,] mi, IReadOnlyList<string> factors, double mig)
    {
        int d = mi.GetLength(0), k = mi.GetLength(1);
        var plot = Theme.NewPlot($"{model}: I(z_j; factor) / H(factor), MIG {mig:0.000}", "factor", "code dimension");
        // Row 0 of a heat map is drawn at the top: dimension 1 first.
        var cells = new double[d, k];
        for (int j = 0; j < d; j++)
            for (int f = 0; f < k; f++) cells[j, f] = mi[j, f];
        var heat = plot.Add.Heatmap(cells);
        heat.Colormap = new ScottPlot.Colormaps.Amp();
        heat.ManualRange = new ScottPlot.Range(0, 1);
        heat.Rectangle = new CoordinateRect(0, k, 0, d);
        for (int j = 0; j < d && d <= 40; j++)
            for (int f = 0; f < k; f++)
            {
                var text = plot.Add.Text(mi[j, f].ToString("0.00"), f + 0.5, d - j - 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = d > 20 ? 9 : 12;
                text.LabelFontColor = mi[j, f] > 0.55 ? Colors.White : Colors.Black;
            }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, k).Select(f => f + 0.5)], [.. factors]);
        int step = d > 20 ? 4 : 1;
        var rows = Enumerable.Range(0, d).Where(j => j % step == 0).ToArray();
        plot.Axes.Left.SetTicks([.. rows.Select(j => d - j - 0.5)], [.. rows.Select(j => $"z{j + 1}")]);
        plot.Axes.SetLimits(0, k, 0, d);
        return plot;
    }

    /// <summary>From test image #0's code, each active dimension (up to <see cref="MostRows"/>, most informative first)
    /// moved alone from -3 to +3 standard deviations of the test codes; each row labelled with the factor that
    /// dimension knows most about and that normalised information.</summary>
    public static Plot Traversals(Autoencoder model, Tensor codes, double[,] mi, IReadOnlyList<string> factors, Data.ImageShape shape)
    {
        var active = ActiveDimensions(codes, mi).Take(MostRows).ToArray();
        var std = codes.std(0, unbiased: false).data<double>().ToArray();
        using var start = codes.narrow(0, 0, 1).to(ScalarType.Float32);
        var pixels = new List<float>();
        var names = new List<string>();
        foreach (int j in active)
        {
            using var z = start.repeat(Steps, 1);
            for (int step = 0; step < Steps; step++)
                z[step, j] = z[step, j] + (float)((-3 + 6.0 * step / (Steps - 1)) * std[j]);
            using var images = model.Decode(z).sigmoid();
            pixels.AddRange(images.data<float>());
            int best = Enumerable.Range(0, factors.Count).MaxBy(f => mi[j, f]);
            names.Add($"z{j + 1}: {factors[best]} {mi[j, best]:0.00}");
        }
        string subtitle = active.Length == 0 ? "no active dimension (every code variance under 0.01)"
            : $"{active.Length} active dimension{(active.Length == 1 ? "" : "s")} shown, -3 to +3 standard deviations of the test codes";
        var plot = Figures.Images($"{model.Config.Name}: each active dimension alone, with the factor it knows most about",
            subtitle, "", [.. pixels], shape, Steps, gap: 2);
        if (names.Count > 0)
        {
            double height = names.Count * shape.Height + (names.Count + 1) * 2;
            plot.Axes.Left.SetTicks([.. Enumerable.Range(0, names.Count).Select(r => height - (2 + r * (shape.Height + 2) + shape.Height / 2.0))], [.. names]);
            plot.Axes.Left.TickLabelStyle.IsVisible = true;
        }
        return plot;
    }
}
