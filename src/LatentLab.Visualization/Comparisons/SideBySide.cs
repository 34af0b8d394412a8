using System.Globalization;
using LatentLab.Analysis;
using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Models;
using LatentLab.Training;
using ScottPlot;
using SkiaSharp;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Visualization.Comparisons;

/// <summary>One trained run as the comparison sees it: its model, training history, metrics, and the codes' distance
/// from N(0, I).</summary>
public sealed record ComparedRun(string Name, Autoencoder Model, IReadOnlyList<EpochRecord> History, Metrics Metrics, double PriorGapNats)
{
    public bool IsVae => Model.IsVariational;
}

/// <summary>A comparison figure: its file (relative to the dataset folder), a title, and the sentences drawn from its numbers.</summary>
/// <param name="Shows">Each model's own figures whose content this one shows for every compared model (the same test
/// images reconstructed, samples, the 2-d plane), relative to the dataset folder: report.html shows them once, here.</param>
public sealed record ComparisonFigure(string File, string Title, IReadOnlyList<string> Sentences, IReadOnlyList<string>? Shows = null);

/// <summary>The paper's comparisons, each in one picture with every compared model side by side: the same test images
/// reconstructed, the 2-d latent planes, prior samples, test loss per epoch, the spread of each latent dimension, and
/// traversals of the most active dimensions. Written to <c>OUT/&lt;dataset&gt;/comparison/</c>; a figure that fewer than
/// two of the compared models can be in is skipped.</summary>
public static class SideBySide
{
    public const string FolderName = "comparison";
    const int SamplesPerModel = 36, TraversedDimensions = 6, TraversalSteps = 7;

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    public static IReadOnlyList<ComparisonFigure> Draw(IReadOnlyList<ComparedRun> runs, Dataset data, string datasetFolder, long seed,
        IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var figures = new List<ComparisonFigure>();
        if (runs.Count < 2) return figures;
        string folder = Path.Combine(datasetFolder, FolderName);
        foreach (var model in runs) model.Model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        void Save(SKBitmap bitmap, string file, string title, IReadOnlyList<string> sentences, IEnumerable<ComparedRun>? shown = null, string? ownFigure = null)
        {
            using (bitmap) Raster.SavePng(bitmap, Path.Combine(folder, file));
            figures.Add(new ComparisonFigure($"{FolderName}/{file}", title, sentences,
                shown is null ? null : shown.Select(r => $"{r.Name}/figures/{ownFigure}").ToList()));
        }

        cancel.ThrowIfCancellationRequested();
        progress?.Report("comparison: reconstructions");
        Save(Reconstructions(runs, data, out var reconstructionSentences), "reconstructions.png", "The same test images, reconstructed by each model", reconstructionSentences,
            runs, "reconstructions.png");

        // Prior and aggregate posterior of every 2-d VAE, one row each (shown even for one such model: the default
        // comparison has one, and the picture is what its report should teach).
        var priorRuns = runs.Where(r => PriorAndPosterior.Applies(r.Model)).ToList();
        if (priorRuns.Count >= 1)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("comparison: prior and posterior");
            var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
            var classNames = data.HasLabels ? data.ClassNames : Visualizer.UnlabelledClassNames;
            var pictures = priorRuns.Select(r => PriorAndPosterior.Compute(r.Model, data.TestImages, labels, seed)).ToList();
            var drawn = pictures.Select(p => PriorPosteriorFigure.Draw(p, classNames)).ToList();
            var stacked = Stack(drawn);
            Save(stacked, "prior_and_posterior.png",
                "The prior, the posteriors and their average",
                [.. pictures.Select(PriorPosteriorFigure.Sentence).Select(t => t + "."),
                 "Left: the prior's contours under the test codes, with the 1-σ ellipse of q(z|x) for 200 test images; right: the average of "
                 + "the posteriors, q(z), over the prior. Where q(z) has mass the prior lacks, or holes where the prior has mass, "
                 + "samples from the prior decode to images unlike the data."], priorRuns, "prior_and_posterior.png");
        }

        // How well q(z|x) fits the true posterior, for every 2-d VAE whose own figure exists (drawn by visualize, which
        // compare runs first: the plane integral is not computed twice).
        string FitFile(ComparedRun r, string file) => Path.Combine(datasetFolder, r.Name, "figures", file);
        var fits = runs.Where(r => PosteriorFit.Applies(r.Model) && File.Exists(FitFile(r, "posterior_fit.png")))
            .Select(r => (Run: r, Csv: PosteriorFit.ReadCsv(FitFile(r, "posterior_fit.csv")))).Where(f => f.Csv is not null).ToList();
        if (fits.Count >= 1)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("comparison: posterior fit");
            var drawn = fits.Select(f => SKBitmap.Decode(FitFile(f.Run, "posterior_fit.png"))).ToList();
            var stacked = Stack(drawn);
            foreach (var b in drawn) b.Dispose();
            Save(stacked, "posterior_fit.png", "What the Gaussian posterior misses",
                [.. fits.Select(f => PosteriorFitFigure.Summary(f.Run.Name, f.Csv!.Value.Rows, f.Csv.Value.K) + "."),
                 "Each panel: the true posterior p(z|x) of a test image (heat map, exact in two dimensions) under the contours of the q(z|x) "
                 + "the encoder gives it (the regions holding 39 % and 86 % of its mass: a Gaussian's 1- and 2-σ ellipses), for the images "
                 + "whose k-sample estimate falls furthest below the exact log p(x). Where p(z|x) has mass far from q(z|x), the ELBO misses "
                 + "KL(q ‖ p(z|x)) and the importance weights there are rare and large."],
                fits.Select(f => f.Run), "posterior_fit.png");
        }

        // What each dimension means, on data with known factors: each model's own two pictures (drawn by visualize),
        // one above the other, with its scores.
        var scored = runs.Where(r => r.Metrics.Disentanglement is not null && File.Exists(FitFile(r, "factor_information.png"))
                                     && File.Exists(FitFile(r, "factor_traversals.png"))).ToList();
        if (data.Factors is not null && scored.Count >= 1)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("comparison: what each dimension means");
            string Scores(ComparedRun r)
            {
                var d = r.Metrics.Disentanglement!;
                return $"{r.Name}: MIG {F(d.Mig, "0.000")}, SAP {F(d.Sap, "0.000")}, DCI disentanglement {F(d.DciDisentanglement, "0.000")}, " +
                       $"completeness {F(d.DciCompleteness, "0.000")}, informativeness {F(d.DciInformativeness, "0.0%")}, β-VAE score {F(d.BetaVaeScore, "0.0%")}, FactorVAE score {F(d.FactorVaeScore, "0.0%")}";
            }
            foreach (var (file, title, about) in new[]
            {
                ("factor_information.png", "How much each code dimension knows about each factor",
                 "Each cell: the mutual information between a code dimension and a factor, as a share of the factor's entropy. A disentangled code has one dark cell per factor column, each in its own row; MIG is the mean gap between each column's darkest cell and its second."),
                ("factor_traversals.png", "Each active dimension moved alone",
                 "Rows: the active dimensions, most informative first, each labelled with the factor it knows most about and that share; a dimension that means one thing changes one property of the image across its row."),
            })
            {
                var drawn = scored.Select(r => SKBitmap.Decode(FitFile(r, file))).ToList();
                var stacked = Stack(drawn);
                foreach (var b in drawn) b.Dispose();
                Save(stacked, file, title, [.. scored.Select(r => Scores(r) + "."), about], scored, file);
            }
        }

        var planes = runs.Where(r => r.Model.Config.LatentDim == 2).ToList();
        if (planes.Count >= 2)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("comparison: latent planes");
            Save(LatentPlanes(planes, data), "latent_planes.png", "The 2-d latent spaces side by side",
                [string.Join("; ", planes.Select(r => $"{r.Name}'s test codes have standard deviations {F(r.Metrics.LatentStd[0], "0.00")} and {F(r.Metrics.LatentStd[1], "0.00")}"))
                 + " (the prior N(0, I) has 1 and 1)."], planes, "latent_scatter.png");
        }

        cancel.ThrowIfCancellationRequested();
        progress?.Report("comparison: samples");
        Save(Samples(runs, data, seed), "samples.png", "Samples side by side",
            [string.Join("; ", runs.Select(r => $"{r.Name} decodes z ~ {r.Model.Prior?.Description ?? "its fitted sampler"}, its codes {F(r.PriorGapNats, "0.00")} nats from N(0, I)"))
             + ". The closer the codes are to the distribution the samples are drawn from, the more the samples look like decoded test images."],
            runs, "samples.png");

        var histories = runs.Where(r => r.History.Count > 0).ToList();
        if (histories.Count >= 2)
        {
            progress?.Report("comparison: training curves");
            var best = histories.MinBy(r => r.History[^1].TestLoss)!;
            Save(TrainingCurves(histories), "training_curves.png", "Test loss per epoch",
                [$"After the last epoch the test losses are {string.Join(", ", histories.Select(r => $"{r.Name} {F(r.History[^1].TestLoss, "0.00")}"))} nats per image; {best.Name}'s is lowest. "
                 + "A VAE's loss is its negative ELBO, an AE's its reconstruction term alone, so lower is better within a kind; across kinds compare the metric table."]);
        }

        var wide = runs.Where(r => r.Model.Config.LatentDim > 2).ToList();
        if (wide.Count >= 2)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("comparison: latent spread");
            Save(LatentSpread(wide), "latent_spread.png", "How much each latent dimension varies across test images",
                [string.Join("; ", wide.Select(r =>
                {
                    var std = r.Metrics.LatentStd;
                    int active = std.Count(s => s * s > Evaluator.ActiveUnitThreshold);
                    return $"{r.Name}: {active} of {std.Length} dimensions vary more than the active-unit threshold (variance {F(Evaluator.ActiveUnitThreshold, "0.00")}), spreads from {F(std.Min(), "0.000")} to {F(std.Max(), "0.00")}";
                })) + "."]);

            progress?.Report("comparison: traversals");
            Save(Traversals(wide, data, out var traversalSentence), "traversals.png", "Traversals of the most active dimensions", [traversalSentence]);
        }
        return figures;
    }

    /// <summary>Bitmaps one under the other, each disposed once copied (and not read after: a disposed SKBitmap's size
    /// is a native call on a freed handle).</summary>
    static SKBitmap Stack(IReadOnlyList<SKBitmap> parts)
    {
        var bitmap = Raster.Blank(parts.Max(p => p.Width), parts.Sum(p => p.Height));
        using var canvas = new SKCanvas(bitmap);
        int top = 0;
        foreach (var part in parts)
        {
            canvas.DrawBitmap(part, 0, top);
            top += part.Height;
            part.Dispose();
        }
        return bitmap;
    }

    /// <summary>Test images of each class as columns (the first of each class; the first ten without labels); a row of
    /// originals, then one row per model; each reconstruction marked with its SSIM.</summary>
    static SKBitmap Reconstructions(IReadOnlyList<ComparedRun> runs, Dataset data, out List<string> sentences)
    {
        var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
        int[] columns = data.HasLabels
            ? Visualizer.FirstOfEachClass(labels, data.ClassNames.Count, perClass: 1).Take(12).ToArray()
            : Enumerable.Range(0, (int)Math.Min(10, data.TestCount)).ToArray();
        var shape = data.Shape;
        using var originals = data.TestImages.index_select(0, tensor(columns.Select(i => (long)i).ToArray()));
        int scale = Math.Max(1, 84 / Math.Max(shape.Width, shape.Height)), tileW = shape.Width * scale, tileH = shape.Height * scale;
        const int labelWidth = 190, header = 70, caption = 22, gap = 8;
        int width = labelWidth + columns.Length * (tileW + gap) + gap, height = header + (runs.Count + 1) * (tileH + caption + gap) + gap;
        var bitmap = Raster.Blank(width, height);
        using var canvas = new SKCanvas(bitmap);
        using var titleFont = Theme.Font(Theme.TitleSize, bold: true);
        using var font = Theme.Font(Theme.TickSize + 1);
        using var small = Theme.Font(Theme.TickSize - 1);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        Raster.CenteredText(canvas, "Test images (top row) and each model's reconstruction, with its SSIM", width / 2f, 34, titleFont);
        var means = new List<(string Name, double Ssim)>();
        for (int row = 0; row <= runs.Count; row++)
        {
            float top = header + row * (tileH + caption + gap);
            canvas.DrawText(row == 0 ? "original" : runs[row - 1].Name, 12, top + tileH / 2f + 6, SKTextAlign.Left, font, ink);
            var images = row == 0 ? originals : runs[row - 1].Model.forward(originals).sigmoid();
            var ssim = row == 0 ? null : ImageMetrics.Ssim(originals, images).data<double>().ToArray();
            if (ssim is not null) means.Add((runs[row - 1].Name, ssim.Average()));
            var pixels = images.data<float>().ToArray();
            for (int c = 0; c < columns.Length; c++)
            {
                float left = labelWidth + c * (tileW + gap) + gap;
                using var tile = ImageGrid.Tiles(pixels.AsSpan(c * shape.Pixels, shape.Pixels), shape, 1, scale);
                canvas.DrawBitmap(tile, left, top);
                string text = ssim is null ? (data.HasLabels ? data.ClassNames[labels[columns[c]]] : $"#{columns[c]}") : F(ssim[c], "0.00");
                Raster.CenteredText(canvas, text, left + tileW / 2f, top + tileH + 16, small);
            }
        }
        var ranked = means.OrderByDescending(m => m.Ssim).ToList();
        sentences =
        [
            $"On these {columns.Length} test images the mean SSIM is {string.Join(", ", ranked.Select(m => $"{m.Name} {F(m.Ssim, "0.000")}"))}; "
            + $"over the whole test split {string.Join(", ", runs.OrderByDescending(r => r.Metrics.TestSsim).Select(r => $"{r.Name} {F(r.Metrics.TestSsim, "0.000")}"))}.",
        ];
        return bitmap;
    }

    /// <summary>Each 2-d model's test codes in a panel of its own, same colours and legend.</summary>
    static SKBitmap LatentPlanes(IReadOnlyList<ComparedRun> runs, Dataset data)
    {
        var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
        var classNames = data.HasLabels ? data.ClassNames : ["test images (no labels)"];
        const int panel = 720, panelHeight = 640;
        var bitmap = Raster.Blank(panel * runs.Count, panelHeight);
        using var canvas = new SKCanvas(bitmap);
        for (int i = 0; i < runs.Count; i++)
        {
            using var codes = Evaluator.EncodeAll(runs[i].Model, data.TestImages);
            var points = new LabelledPoints(codes.select(1, 0).data<double>().ToArray(), codes.select(1, 1).data<double>().ToArray(), labels, classNames);
            var plot = Figures.Scatter($"{runs[i].Name}: test codes{(runs[i].IsVae ? " (z = mu)" : "")}", "z1", "z2", points);
            Raster.Draw(canvas, plot, new SKRect(i * panel, 0, (i + 1) * panel, panelHeight));
        }
        return bitmap;
    }

    /// <summary>Decoded samples of each model in a panel of its own: a VAE's from its prior, an AE's from a Gaussian
    /// fitted to its training codes.</summary>
    static SKBitmap Samples(IReadOnlyList<ComparedRun> runs, Dataset data, long seed)
    {
        var shape = data.Shape;
        int side = (int)Math.Sqrt(SamplesPerModel), scale = Math.Max(1, 56 / Math.Max(shape.Width, shape.Height));
        int gridW = side * shape.Width * scale + (side + 1) * 2, gridH = side * shape.Height * scale + (side + 1) * 2;
        const int header = 90, margin = 30;
        var bitmap = Raster.Blank(runs.Count * (gridW + margin) + margin, header + gridH + margin);
        using var canvas = new SKCanvas(bitmap);
        using var titleFont = Theme.Font(Theme.LabelSize, bold: true);
        using var font = Theme.Font(Theme.TickSize);
        for (int i = 0; i < runs.Count; i++)
        {
            using var rng = new Generator((ulong)seed + 11);
            var model = runs[i].Model;
            Evaluator.EnsureSampler(model, data);
            var z = model.SamplePrior(SamplesPerModel, rng);
            var pixels = model.Decode(z).sigmoid().data<float>().ToArray();
            float left = margin + i * (gridW + margin);
            Raster.CenteredText(canvas, runs[i].Name, left + gridW / 2f, 36, titleFont);
            Raster.CenteredText(canvas, runs[i].IsVae ? $"z ~ {model.Prior!.Description}, the prior" : "z ~ Gaussian fitted to its codes", left + gridW / 2f, 62, font);
            using var tiles = ImageGrid.Tiles(pixels, shape, side, scale, gap: 2);
            canvas.DrawBitmap(tiles, left, header);
        }
        return bitmap;
    }

    /// <summary>Test loss per epoch of every model, in one plot (nats per image).</summary>
    static SKBitmap TrainingCurves(IReadOnlyList<ComparedRun> runs)
    {
        var plot = Theme.NewPlot("Test loss per epoch", "epoch", "test loss (nats per image)");
        for (int i = 0; i < runs.Count; i++)
        {
            var line = plot.Add.Scatter(runs[i].History.Select(h => (double)h.Epoch).ToArray(), runs[i].History.Select(h => h.TestLoss).ToArray(), Theme.ClassColor(i));
            line.LegendText = $"{runs[i].Name} ({(runs[i].IsVae ? "-ELBO" : "reconstruction")})";
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        plot.ShowLegend(Alignment.UpperRight);
        plot.Legend.FontSize = Theme.TickSize;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return Raster.Render(plot, Figures.Width, 620);
    }

    /// <summary>Left: the standard deviation of each latent dimension over the test codes, sorted, one line per model,
    /// with the active-unit threshold; right: each VAE's KL per dimension, sorted.</summary>
    static SKBitmap LatentSpread(IReadOnlyList<ComparedRun> runs)
    {
        var spread = Theme.NewPlot("Spread of each latent dimension over the test codes", "dimensions, sorted by spread", "standard deviation of the code");
        for (int i = 0; i < runs.Count; i++)
        {
            var sorted = runs[i].Metrics.LatentStd.OrderByDescending(s => s).ToArray();
            var line = spread.Add.Scatter(Enumerable.Range(1, sorted.Length).Select(d => (double)d).ToArray(), sorted, Theme.ClassColor(i));
            line.LegendText = runs[i].Name;
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }
        var threshold = spread.Add.HorizontalLine(Math.Sqrt(Evaluator.ActiveUnitThreshold), 2, Colors.Black, LinePattern.Dashed);
        threshold.LegendText = "active-unit threshold (variance 0.01)";
        spread.ShowLegend(Alignment.UpperRight);
        spread.Legend.FontSize = Theme.TickSize;

        var kl = Theme.NewPlot("KL per dimension of each VAE, sorted", "dimensions, sorted by KL", "KL(q(z_i|x) || N(0, 1)), nats");
        for (int i = 0; i < runs.Count; i++)
        {
            if (runs[i].Metrics.KlPerDim is not { } perDim) continue;
            var sorted = perDim.OrderByDescending(v => v).ToArray();
            var line = kl.Add.Scatter(Enumerable.Range(1, sorted.Length).Select(d => (double)d).ToArray(), sorted, Theme.ClassColor(i));
            line.LegendText = runs[i].Name;
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }
        kl.ShowLegend(Alignment.UpperRight);
        kl.Legend.FontSize = Theme.TickSize;

        var bitmap = Raster.Blank(1600, 620);
        using var canvas = new SKCanvas(bitmap);
        Raster.Draw(canvas, spread, new SKRect(0, 0, 800, 620));
        Raster.Draw(canvas, kl, new SKRect(800, 0, 1600, 620));
        return bitmap;
    }

    /// <summary>For each model, the first test image's code with one of its most varying dimensions moved from -3 to +3
    /// standard deviations (of that dimension over the test codes) while the others stay: a row per dimension.</summary>
    static SKBitmap Traversals(IReadOnlyList<ComparedRun> runs, Dataset data, out string sentence)
    {
        var shape = data.Shape;
        int scale = Math.Max(1, 56 / Math.Max(shape.Width, shape.Height));
        int gridW = TraversalSteps * shape.Width * scale + (TraversalSteps + 1) * 2, gridH = TraversedDimensions * shape.Height * scale + (TraversedDimensions + 1) * 2;
        const int header = 100, margin = 60, footer = 40;
        var bitmap = Raster.Blank(runs.Count * (gridW + margin) + margin, header + gridH + footer);
        using var canvas = new SKCanvas(bitmap);
        using var titleFont = Theme.Font(Theme.LabelSize, bold: true);
        using var font = Theme.Font(Theme.TickSize);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var changes = new List<string>();
        for (int i = 0; i < runs.Count; i++)
        {
            var model = runs[i].Model;
            var std = runs[i].Metrics.LatentStd;
            var dims = Enumerable.Range(0, std.Length).OrderByDescending(d => std[d]).Take(TraversedDimensions).ToArray();
            using var start = model.EncodeMean(data.TestImages.narrow(0, 0, 1)).to(ScalarType.Float32);
            var z = start.repeat(dims.Length * TraversalSteps, 1);
            for (int row = 0; row < dims.Length; row++)
                for (int step = 0; step < TraversalSteps; step++)
                {
                    double t = -3 + 6.0 * step / (TraversalSteps - 1);
                    z[row * TraversalSteps + step, dims[row]] = z[row * TraversalSteps + step, dims[row]] + (float)(t * std[dims[row]]);
                }
            var images = model.Decode(z).sigmoid();
            // Mean absolute change of a pixel between the two ends of each traversal.
            var ends = images.view(dims.Length, TraversalSteps, -1);
            double change = (ends.select(1, TraversalSteps - 1) - ends.select(1, 0)).abs().mean().item<float>();
            changes.Add($"{runs[i].Name} {F(change, "0.000")}");
            float left = margin + i * (gridW + margin);
            Raster.CenteredText(canvas, runs[i].Name, left + gridW / 2f, 36, titleFont);
            Raster.CenteredText(canvas, $"test image #0; rows: its {dims.Length} most varying dimensions", left + gridW / 2f, 64, font);
            using var tiles = ImageGrid.Tiles(images.data<float>().ToArray(), shape, TraversalSteps, scale, gap: 2);
            canvas.DrawBitmap(tiles, left, header);
            for (int row = 0; row < dims.Length; row++)
                canvas.DrawText($"z{dims[row] + 1}", left - 8, header + 2 + row * (shape.Height * scale + 2) + shape.Height * scale / 2f + 5, SKTextAlign.Right, font, ink);
            for (int step = 0; step < TraversalSteps; step++)
                Raster.CenteredText(canvas, $"{-3 + 6 * step / (TraversalSteps - 1):+0;-0;0}σ", left + 2 + step * (shape.Width * scale + 2) + shape.Width * scale / 2f, header + gridH + 24, font);
        }
        sentence = $"Moving one of the {TraversedDimensions} most varying dimensions from -3 to +3 standard deviations changes a pixel by {string.Join(", ", changes)} on average (intensities in [0, 1]): "
                   + "the larger the change, the more that dimension alone decides what is drawn.";
        return bitmap;
    }
}
