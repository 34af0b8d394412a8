using LatentLab.Analysis.Disentanglement;
using LatentLab.Analysis;
using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Training;
using ScottPlot;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Visualization;

/// <summary>Settings of <see cref="Visualizer"/>. <paramref name="TsnePoints"/> test codes go into the exact t-SNE
/// (32-d models) at <paramref name="Perplexity"/>; <paramref name="Frames"/> is the length of the sampling animation.</summary>
public sealed record VisualizeOptions(int TsnePoints = 2000, double Perplexity = 30, int Frames = 60, long Seed = 0)
{
    public VisualizeOptions Validate()
    {
        if (TsnePoints is < 50 or > 5000) throw new LatentLabException($"--tsne-points must be between 50 and 5000, got {TsnePoints}");
        if (Frames is < 10 or > 600) throw new LatentLabException($"--frames must be between 10 and 600, got {Frames}");
        return this;
    }
}

/// <summary>What <see cref="Visualizer.Run"/> wrote, and what it could not make and why.</summary>
public sealed record VisualizeResult(IReadOnlyList<string> Written, IReadOnlyList<string> Skipped);

/// <summary><c>latent visualize</c>: every figure and animation of one trained model, into its run folder's
/// <c>figures/</c> and <c>animations/</c>. Each file is written atomically.</summary>
public static class Visualizer
{
    /// <remarks>Cancellation is honoured between pictures (OperationCanceledException): what is written is complete,
    /// and running again redraws everything.</remarks>
    public static VisualizeResult Run(Autoencoder model, Dataset data, RunFolder folder, VisualizeOptions options, IProgress<string>? progress = null,
        CancellationToken cancel = default)
    {
        options.Validate();
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var written = new List<string>();
        var skipped = new List<string>();
        string name = model.Config.Name;
        int latentDim = model.Config.LatentDim;
        bool isVae = model.IsVariational;
        Evaluator.EnsureSampler(model, data);
        var prior = model.Prior!;
        var shape = data.Shape;
        // Unlabelled images are one class for the pictures: one colour, and no class names to pair or average.
        var classNames = data.HasLabels ? data.ClassNames : UnlabelledClassNames;
        var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
        string F(string file) => Path.Combine(folder.FiguresDir, file);
        string A(string file) => Path.Combine(folder.AnimationsDir, file);
        void Png(Plot plot, string path, int width = Figures.Width, int height = Figures.Height)
        {
            using var bitmap = Raster.Render(plot, width, height);
            Raster.SavePng(bitmap, path);
            written.Add(path);
        }

        cancel.ThrowIfCancellationRequested();

        progress?.Report("encoding the test split");
        var codes = Evaluator.EncodeAll(model, data.TestImages);           // [N, d] float64
        string zName = isVae ? "z = mu" : "z";

        // The plane every 2-d picture uses: z itself, or the first two principal components of the codes.
        using var pca = latentDim == 2 ? null : Pca.Fit(codes, 2);
        var plane = pca is null ? codes : pca.Transform(codes);
        var planePoints = Points(plane, labels, classNames);
        string PlaneAxis(int i) => pca is null ? $"z{i + 1}" : $"PC{i + 1} ({pca.ExplainedRatio[i]:P0} of variance)";
        string planeTitle = pca is null
            ? $"{name}: test latents ({zName}), {planePoints.Count:N0} images"
            : $"{name}: PCA of the {latentDim}-d test latents ({zName}), {planePoints.Count:N0} images";

        cancel.ThrowIfCancellationRequested();

        progress?.Report("latent scatter");
        Png(Figures.Scatter(planeTitle, PlaneAxis(0), PlaneAxis(1), planePoints), F("latent_scatter.png"));

        if (latentDim > 2)
        {
            int n = (int)Math.Min(options.TsnePoints, codes.shape[0]);
            double perplexity = Math.Min(options.Perplexity, (n - 1) / 3.0);
            using var tsne = Tsne.Embed(codes.narrow(0, 0, n), new TsneOptions(Perplexity: perplexity), new SynchronousReport(progress, n));
            var points = Points(tsne.Embedding, labels[..n], classNames);
            Png(Figures.Scatter($"{name}: t-SNE of {n:N0} test latents (perplexity {perplexity:0.#}, exact)", "t-SNE 1", "t-SNE 2", points, markerSize: 4),
                F("latent_tsne.png"));
        }

        if (latentDim == 2)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("decoded manifold");
            Png(Manifold(model, codes, prior.IsStandardNormal, shape), F("manifold.png"), 900, 900);
        }

        if (PriorAndPosterior.Applies(model))
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("prior and posterior");
            var picture = PriorAndPosterior.Compute(model, data.TestImages, labels, options.Seed);
            using var bitmap = PriorPosteriorFigure.Draw(picture, classNames);
            Raster.SavePng(bitmap, F("prior_and_posterior.png"));
            written.Add(F("prior_and_posterior.png"));
        }

        if (PosteriorFit.Applies(model))
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("posterior fit");
            var fit = PosteriorFit.Compute(model, data.TestImages, labels, options.Seed, progress: progress, cancel: cancel, known: folder.ExactLogPx());
            using var bitmap = PosteriorFitFigure.Draw(fit, shape, classNames);
            Raster.SavePng(bitmap, F("posterior_fit.png"));
            written.Add(F("posterior_fit.png"));
            LatentLab.IO.AtomicFile.WriteAllText(F("posterior_fit.csv"), PosteriorFit.ToCsv(fit.Rows, fit.K));
            written.Add(F("posterior_fit.csv"));
        }

        if (data.Factors is { } factors)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("what each dimension means");
            var pool = FactorCodes.FromTensors(codes, factors.Test, factors.Names);
            var mi = Disentanglement.NormalisedMutualInformation(pool);
            int k = factors.Names.Count, d = latentDim;
            Png(FactorFigures.Information(name, mi, factors.Names, Disentanglement.Mig(mi)), F("factor_information.png"),
                Math.Max(500, 140 + 110 * k), Math.Max(420, 120 + 26 * Math.Min(d, 40)));
            Png(FactorFigures.Traversals(model, codes, mi, factors.Names, shape), F("factor_traversals.png"), 1000, 1100);
        }

        if (model.Config.TopLatentDim > 0)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report("traversals of each layer");
            Png(LayerTraversals(model, codes, shape), F("layer_traversals.png"), 900, 1100);
        }

        cancel.ThrowIfCancellationRequested();

        progress?.Report("reconstructions");
        var fixedIndices = FirstOfEachClass(labels, classNames.Count, perClass: Math.Max(2, 20 / classNames.Count));
        using (var originals = data.TestImages.index_select(0, tensor(fixedIndices.Select(i => (long)i).ToArray())))
        {
            var reconstructions = model.forward(originals).sigmoid();
            // Two pairs of rows (originals above reconstructions); a short last row is padded with grey tiles.
            int columns = (fixedIndices.Length + 1) / 2;
            var rows = new List<float>();
            void AddRow(Tensor images, int first)
            {
                int count = Math.Max(0, Math.Min(columns, fixedIndices.Length - first));
                if (count > 0) rows.AddRange(images.narrow(0, first, count).data<float>());
                rows.AddRange(Enumerable.Repeat(0.5f, (columns - count) * shape.Pixels));
            }
            for (int half = 0; half < 2; half++)
            {
                AddRow(originals, half * columns);
                AddRow(reconstructions, half * columns);
            }
            var plot = Figures.Images($"{name}: test images (rows 1, 3) and their reconstructions (rows 2, 4)",
                $"test images #{string.Join(", #", fixedIndices.Take(columns))}, ...", "", rows.ToArray(), shape, columns, gap: 2);
            RowTicks(plot, 4, shape.Height, 2, ["original", "reconstruction", "original", "reconstruction"]);
            Png(plot, F("reconstructions.png"), 1000, 480);
        }

        cancel.ThrowIfCancellationRequested();

        progress?.Report("samples");
        using (var rng = new Generator((ulong)options.Seed + 11))
        {
            var z = model.SamplePrior(64, rng);
            string title = $"{name}: 64 samples, z ~ {prior.Description}" + (isVae ? " (the prior)" : "");
            var samples = model.Decode(z).sigmoid().data<float>().ToArray();
            Png(Figures.Images(title, isVae ? "decoded from prior samples" : "an AE has no prior: a density fitted to its training codes by maximum likelihood",
                "", samples, shape, 8, gap: 2), F("samples.png"), 820, 900);
        }

        cancel.ThrowIfCancellationRequested();

        progress?.Report("latent histograms");
        var perDim = Enumerable.Range(0, latentDim).Select(d => codes.select(1, d).data<double>().ToArray()).ToArray();
        using (var bitmap = Figures.Histograms($"{name}: marginals of the test latents ({zName}) against N(0, 1)"
                   + (latentDim > 32 ? $", first 32 of {latentDim} dimensions" : ""), perDim))
        {
            Raster.SavePng(bitmap, F("latent_histograms.png"));
            written.Add(F("latent_histograms.png"));
        }

        if (isVae && model.Encode(data.TestImages).KlPerDimension(prior) is { } klPerDimension)
        {
            var kl = klPerDimension.mean([0]).to(ScalarType.Float64).data<double>().ToArray();
            Png(Figures.KlPerDim($"{name}: KL(q(z_i|x) || N(0,1)) per dimension, test mean; total {kl.Sum():0.00} nats", kl), F("kl_per_dim.png"));
        }

        if (File.Exists(folder.HistoryPath))
        {
            var history = History.Read(folder.HistoryPath);
            string loss = isVae ? "loss = -ELBO (nats per image)"
                : model.Config.Recon == ReconstructionLoss.Bce ? "loss = BCE (nats per image)" : "loss = squared error per image";
            Png(Figures.TrainingCurves($"{name}: training curves ({history.Count} epochs)", history, loss), F("training_curves.png"));
        }
        else skipped.Add($"training_curves.png: no {Path.GetFileName(folder.HistoryPath)}");

        cancel.ThrowIfCancellationRequested();

        progress?.Report("sampling animation");
        Gif.Save(A("sampling.gif"), SamplingFrames(model, codes, plane, pca, planePoints, planeTitle, PlaneAxis, labels, classNames, options.Frames, shape));
        written.Add(A("sampling.gif"));

        cancel.ThrowIfCancellationRequested();

        progress?.Report("interpolation animation");
        Gif.Save(A("interpolation.gif"), InterpolationFrames(model, data, labels, classNames, frames: 40), delayCentiseconds: 8, lastDelayCentiseconds: 8);
        written.Add(A("interpolation.gif"));

        if (LatentSnapshots.Applies(model.Config))
        {
            if (File.Exists(folder.SnapshotsPath))
            {
                cancel.ThrowIfCancellationRequested();
                progress?.Report("latent evolution animation");
                var (series, snapshotLabels) = ReadSnapshots(folder.SnapshotsPath);
                int epochs = series[^1].Epoch;
                Gif.Save(A("latent_evolution.gif"), Animations.Evolution(name, series, snapshotLabels, classNames, Animations.EvolutionTweens(series.Count), epochs),
                    Animations.EvolutionDelay, Animations.EvolutionLastDelay);
                written.Add(A("latent_evolution.gif"));
            }
            else skipped.Add($"latent_evolution.gif: no {LatentSnapshots.FileName} (the model was trained before per-epoch snapshots were kept; retrain it to get one)");
        }
        return new VisualizeResult(written, skipped);
    }

    /// <summary>The files <see cref="Run"/> writes for a model of this configuration, relative to its run folder.</summary>
    /// <summary>The one "class" of a folder of images without labels, as legends name it.</summary>
    public static readonly IReadOnlyList<string> UnlabelledClassNames = ["test images (no labels)"];

    /// <summary>The test codes kept after each epoch (latent_snapshots.safetensors), in epoch order, with their labels.</summary>
    public static (List<(int Epoch, double[] X, double[] Y)> Series, int[] Labels) ReadSnapshots(string path)
    {
        using var scope = NewDisposeScope();
        var labels = LatentSnapshots.ReadLabels(path).to(ScalarType.Int32).data<int>().ToArray();
        var series = LatentSnapshots.Read(path).Select(s => (s.Key, s.Value.select(1, 0).to(ScalarType.Float64).data<double>().ToArray(),
            s.Value.select(1, 1).to(ScalarType.Float64).data<double>().ToArray())).ToList();
        if (series.Count == 0) throw new CorruptFileException(path, "no epoch snapshots");
        return (series, labels);
    }

    public static IReadOnlyList<string> ExpectedFiles(ModelConfig config, bool hasSnapshots)
    {
        var files = new List<string> { "figures/latent_scatter.png" };
        if (config.LatentDim > 2) files.Add("figures/latent_tsne.png");
        if (config.LatentDim == 2) files.Add("figures/manifold.png");
        if (config.LatentDim == 2 && config.Kind == ModelKind.Vae) files.Add("figures/prior_and_posterior.png");
        files.AddRange(["figures/reconstructions.png", "figures/samples.png", "figures/latent_histograms.png"]);
        if (config.Kind == ModelKind.Vae && config.Prior == Models.Priors.PriorRegistry.Standard) files.Add("figures/kl_per_dim.png");
        files.AddRange(["figures/training_curves.png", "animations/sampling.gif", "animations/interpolation.gif"]);
        if (LatentSnapshots.Applies(config) && hasSnapshots) files.Add("animations/latent_evolution.gif");
        return files;
    }

    /// <summary>A 20 x 20 grid of decoded images over the latent plane: at the prior's quantiles 5%..95% for a VAE,
    /// evenly over the 1st to 99th percentile of its test codes for an AE.</summary>
    static Plot Manifold(Autoencoder model, Tensor codes, bool isVae, ImageShape shape)   // isVae: at N(0, I)'s quantiles
    {
        const int grid = 20;
        double[] Axis(int d)
        {
            if (isVae) return Enumerable.Range(0, grid).Select(i => NormalQuantile(0.05 + 0.9 * i / (grid - 1))).ToArray();
            var values = codes.select(1, d).data<double>().ToArray();
            double lo = Figures.Quantile(values, 0.01), hi = Figures.Quantile(values, 0.99);
            return Enumerable.Range(0, grid).Select(i => lo + (hi - lo) * i / (grid - 1)).ToArray();
        }
        var z1 = Axis(0);
        var z2 = Axis(1);
        var z = new float[grid * grid * 2];
        for (int row = 0; row < grid; row++)          // row 0 at the top: the largest z2
        for (int col = 0; col < grid; col++)
        {
            z[(row * grid + col) * 2] = (float)z1[col];
            z[(row * grid + col) * 2 + 1] = (float)z2[grid - 1 - row];
        }
        using var zt = tensor(z, [grid * grid, 2]);
        var pixels = model.Decode(zt).sigmoid().data<float>().ToArray();
        string how = isVae ? "at prior quantiles 5%..95%" : "1st..99th percentile of test codes";
        var plot = Figures.Images($"{model.Config.Name}: decoded latent plane, {how}", isVae ? "z1 (grid at N(0,1) quantiles)" : "z1 (evenly spaced grid)", "z2",
            pixels, shape, grid, extent: new CoordinateRect(0, grid, 0, grid));
        var ticks = Enumerable.Range(0, grid).Where(i => i % 3 == 0 || i == grid - 1).ToArray();
        plot.Axes.Bottom.SetTicks(ticks.Select(i => i + 0.5).ToArray(), ticks.Select(i => z1[i].ToString("0.##")).ToArray());
        plot.Axes.Left.SetTicks(ticks.Select(i => i + 0.5).ToArray(), ticks.Select(i => z2[i].ToString("0.##")).ToArray());
        // The figure is drawn large (900 x 900): ticks and labels at the usual sizes would be small in it.
        plot.Axes.Bottom.TickLabelStyle.FontSize = plot.Axes.Left.TickLabelStyle.FontSize = Theme.LabelSize;
        plot.Axes.Bottom.Label.FontSize = plot.Axes.Left.Label.FontSize = Theme.TitleSize - 2;
        return plot;
    }

    static IEnumerable<SkiaSharp.SKBitmap> SamplingFrames(Autoencoder model, Tensor codes, Tensor plane, Pca? pca, LabelledPoints planePoints,
        string planeTitle, Func<int, string> planeAxis, int[] labels, IReadOnlyList<string> classNames, int frames, ImageShape shape)
    {
        string name = model.Config.Name;
        Tensor path;
        var captions = new List<string>();
        if (pca is null)
        {
            // A figure-of-eight through the centre of the codes, reaching 1.8 standard deviations out.
            var centre = codes.mean([0]).data<double>().ToArray();
            var spread = codes.std(0).data<double>().ToArray();
            var points = new double[frames * 2];
            for (int f = 0; f < frames; f++)
            {
                double t = 2 * Math.PI * f / frames;
                points[2 * f] = centre[0] + 1.8 * spread[0] * Math.Sin(t);
                points[2 * f + 1] = centre[1] + 1.8 * spread[1] * Math.Sin(2 * t);
                captions.Add($"z = ({points[2 * f]:0.00}, {points[2 * f + 1]:0.00})");
            }
            path = tensor(points, [frames, 2]);
        }
        else
        {
            // Through the mean codes of the classes in turn, easing in and out of each; without classes, through the
            // codes of the first few test images.
            var present = Enumerable.Range(0, classNames.Count).Where(c => labels.Contains(c)).ToArray();
            var means = present.Select(c => codes.index_select(0, tensor(labels.Select((l, i) => (l, i)).Where(p => p.l == c).Select(p => (long)p.i).ToArray())).mean([0])).ToArray();
            var stops = present.Select(c => $"the mean code of {classNames[c]}").ToArray();
            if (present.Length < 2)
            {
                int count = (int)Math.Min(6, codes.shape[0]);
                means = Enumerable.Range(0, count).Select(i => codes[i]).ToArray();
                stops = Enumerable.Range(0, count).Select(i => $"test image #{i}").ToArray();
                present = Enumerable.Range(0, count).ToArray();
            }
            var steps = new List<Tensor>();
            for (int f = 0; f < frames; f++)
            {
                double position = (double)f * present.Length / frames;
                int segment = (int)position;
                double u = position - segment, eased = u * u * (3 - 2 * u);
                var from = means[segment % present.Length];
                var to = means[(segment + 1) % present.Length];
                steps.Add(from * (1 - eased) + to * eased);
                captions.Add($"between {stops[segment % present.Length]} and {stops[(segment + 1) % present.Length]}");
            }
            path = stack(steps);
        }
        var images = model.Decode(path.to(ScalarType.Float32)).sigmoid();
        var imageList = Enumerable.Range(0, frames).Select(f => images[f].data<float>().ToArray()).ToList();
        var projected = pca is null ? path : pca.Transform(path);
        var coordinates = Enumerable.Range(0, frames)
            .Select(f => new Coordinates(projected[f, 0].item<double>(), projected[f, 1].item<double>())).ToList();
        var planePlot = Figures.Scatter(pca is null ? $"{name}: a point moving through the latent plane" : $"{name}: a path between class means (PCA plane)",
            planeAxis(0), planeAxis(1), planePoints, markerSize: 3);
        return Animations.Sampling(planePlot, coordinates, imageList, shape, captions);
    }

    static IEnumerable<SkiaSharp.SKBitmap> InterpolationFrames(Autoencoder model, Dataset data, int[] labels, IReadOnlyList<string> classNames, int frames)
    {
        // Pairs of the first test images of classes (0, 1), (2, 3), ... : always of different classes.
        var first = FirstOfEachClass(labels, classNames.Count, perClass: 1);
        var byClass = first.ToDictionary(i => labels[i]);
        var pairs = Enumerable.Range(0, classNames.Count / 2).Select(k => (2 * k, 2 * k + 1))
            .Where(p => byClass.ContainsKey(p.Item1) && byClass.ContainsKey(p.Item2))
            .Select(p => (A: byClass[p.Item1], B: byClass[p.Item2])).ToList();
        if (pairs.Count == 0)   // no two classes to pair: consecutive test images instead
            pairs = Enumerable.Range(0, Math.Min(5, labels.Length / 2)).Select(k => (A: 2 * k, B: 2 * k + 1)).ToList();
        var a = data.TestImages.index_select(0, tensor(pairs.Select(p => (long)p.A).ToArray()));
        var b = data.TestImages.index_select(0, tensor(pairs.Select(p => (long)p.B).ToArray()));
        var za = model.EncodeMean(a);
        var zb = model.EncodeMean(b);
        var weights = Enumerable.Range(0, frames).Select(f => 0.5 - 0.5 * Math.Cos(2 * Math.PI * f / frames)).ToList();
        var decoded = weights.Select(t => model.Decode(za * (1 - t) + zb * t).sigmoid())
            .Select(images => Enumerable.Range(0, pairs.Count).Select(p => images[p].data<float>().ToArray()).ToArray()).ToList();
        var starts = Enumerable.Range(0, pairs.Count).Select(p => a[p].data<float>().ToArray()).ToList();
        var ends = Enumerable.Range(0, pairs.Count).Select(p => b[p].data<float>().ToArray()).ToList();
        var pairLabels = pairs.Select(p => data.HasLabels ? $"{classNames[labels[p.A]]} → {classNames[labels[p.B]]}" : $"#{p.A} → #{p.B}").ToList();
        return Animations.Interpolation($"{model.Config.Name}: straight lines between test codes", starts, ends, pairLabels, decoded, weights, data.Shape);
    }

    /// <summary>The first <paramref name="perClass"/> test indices of each class, ordered by round then class:
    /// fixed by the dataset alone, so every model's figure shows the same images.</summary>
    public static int[] FirstOfEachClass(int[] labels, int classes, int perClass)
    {
        var result = new List<int>();
        for (int round = 0; round < perClass; round++)
            for (int c = 0; c < classes; c++)
            {
                int index = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Skip(round).DefaultIfEmpty(-1).First();
                if (index >= 0) result.Add(index);
            }
        return result.ToArray();
    }

    static LabelledPoints Points(Tensor xy, int[] labels, IReadOnlyList<string> classNames) =>
        new(xy.select(1, 0).to(ScalarType.Float64).data<double>().ToArray(), xy.select(1, 1).to(ScalarType.Float64).data<double>().ToArray(),
            labels, classNames);

    static void RowTicks(Plot plot, int rows, int side, int gap, string[] names)
    {
        double height = rows * side + (rows + 1) * gap;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(r => height - (gap + r * (side + gap) + side / 2.0)).ToArray(), names);
        plot.Axes.Left.TickLabelStyle.IsVisible = true;
    }

    /// <summary>The standard normal quantile function (Acklam's rational approximation: error below 1e-8 for
    /// p in [0.02425, 0.97575], the range the manifold uses; about 1.3e-5 at p = 0.001).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p));
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549671348754794e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) return -NormalQuantile(1 - p);
        double r = p - 0.5, s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }

    /// <summary>t-SNE iterations reported as status text, on the calling thread.</summary>
    sealed class SynchronousReport(IProgress<string>? progress, int points) : IProgress<int>
    {
        public void Report(int iteration) => progress?.Report($"t-SNE of {points:N0} codes: iteration {iteration}");
    }

    /// <summary>A two-level VAE's layers, each moved alone from test image #0's code: rows for the 5 most varying
    /// dimensions of z1 (z2 kept; the decoder reads z1), then for the 5 most varying of z2, with z1 set to its mean under
    /// p(z1|z2), so a row shows what the top layer alone says; columns -3 to +3 standard deviations of the test codes.</summary>
    static Plot LayerTraversals(Autoencoder model, Tensor codes, Data.ImageShape shape)
    {
        const int perLayer = 5, steps = 7;
        int bottom = model.Config.DecoderLatentDim, d = model.Config.LatentDim;
        var std = codes.std(0, unbiased: false).data<double>().ToArray();
        int[] Top(int from, int count) => [.. Enumerable.Range(from, count).OrderByDescending(i => std[i]).Take(Math.Min(perLayer, count))];
        var rows = Top(0, bottom).Select(i => (Dim: i, Upper: false)).Concat(Top(bottom, d - bottom).Select(i => (Dim: i, Upper: true))).ToList();
        using var start = codes.narrow(0, 0, 1).to(ScalarType.Float32);
        var pixels = new List<float>();
        foreach (var (dim, upper) in rows)
        {
            using var z = start.repeat(steps, 1);
            for (int step = 0; step < steps; step++)
                z[step, dim] = z[step, dim] + (float)((-3 + 6.0 * step / (steps - 1)) * std[dim]);
            using var moved = upper ? model.Prior!.LowerLayerFromUpper(z) : z.alias();
            using var images = model.Decode(moved).sigmoid();
            pixels.AddRange(images.data<float>());
        }
        var plot = Figures.Images($"{model.Config.Name}: each stochastic layer moved alone (test image #0)",
            "-3 to +3 standard deviations of the test codes", "", [.. pixels], shape, steps, gap: 2);
        RowTicks(plot, rows.Count, shape.Height, 2, [.. rows.Select(r => r.Upper ? $"z2[{r.Dim - bottom + 1}]" : $"z1[{r.Dim + 1}]")]);
        return plot;
    }
}
