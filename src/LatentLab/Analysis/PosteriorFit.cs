using LatentLab.Evaluation;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Analysis;

/// <summary>One test image's three figures for log p(x), nats: the plane integral (exact up to <see cref="ExactError"/>),
/// the importance-weighted estimate with k draws from q(z|x) and its standard error, and the ELBO (the mean of the same
/// draws' log-weights, so it is exact up to its own Monte-Carlo error).</summary>
public sealed record PosteriorFitRow(int Index, int Label, double Exact, double ExactError, double Estimate, double EstimateSe, double Elbo)
{
    /// <summary>What the k-sample estimate misses: exact minus estimate.</summary>
    public double EstimateGap => Exact - Estimate;
    /// <summary>KL(q(z|x) || p(z|x)): exact minus ELBO.</summary>
    public double ElboGap => Exact - Elbo;
}

/// <summary>A shown image: its true posterior p(z|x) = p(x|z) p(z) / p(x) and the encoder's q(z|x), both on the same
/// grid, its pixels [C*H*W] in [0, 1], and the number of modes of the true posterior.</summary>
public sealed record PosteriorPanel(PosteriorFitRow Row, DensityGrid TruePosterior, DensityGrid Approximate, float[] Pixels, int Modes);

/// <summary>What <c>figures/posterior_fit.png</c> shows and <c>posterior_fit.csv</c> holds, as plain numbers.</summary>
public sealed record PosteriorFitPicture(string Model, int K, PosteriorFitRow[] Rows, PosteriorPanel[] Shown)
{
    public double MeanExact => Rows.Average(r => r.Exact);
    public double MeanEstimate => Rows.Average(r => r.Estimate);
    public double MeanElbo => Rows.Average(r => r.Elbo);
}

/// <summary>How well the Gaussian q(z|x) of a 2-d VAE fits the true posterior: for the first test images, log p(x)
/// by the plane integral beside the k-sample importance-weighted estimate and the ELBO, and the true posteriors of the
/// images that carry the estimate's gap (the largest exact-minus-estimate), drawn under q(z|x).</summary>
/// <remarks>In two dimensions p(z|x) is computable: log p(x|z) + log p(z) on a grid, normalised by the integral the
/// plane integral gives. Where it has several modes or a curved ridge, a Gaussian q(z|x) covers one mode, the ELBO
/// misses KL(q || p(z|x)) and the importance weights of the other modes are rare and huge, so a k-sample estimate
/// falls short of log p(x) by more than its standard error suggests.</remarks>
public static class PosteriorFit
{
    public const int DefaultImages = 50, DefaultK = 5000, DefaultShown = 4, GridPoints = 161;

    public static bool Applies(Autoencoder model) => PlaneIntegral.Applies(model);

    /// <param name="known">The plane integral of these images, when already computed (the run folder's log_px_exact.csv
    /// from the evaluation): its first rows are used instead of integrating again.</param>
    public static PosteriorFitPicture Compute(Autoencoder model, Tensor images, int[] labels, long seed,
        int count = DefaultImages, int k = DefaultK, int shown = DefaultShown, IProgress<string>? progress = null, CancellationToken cancel = default,
        PlaneLikelihood? known = null)
    {
        if (!Applies(model)) throw new ArgumentException($"{model.Config.Name}: the posterior fit needs a 2-d VAE with the Bernoulli likelihood", nameof(model));
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int n = (int)Math.Min(count, images.shape[0]);
        var x = images.narrow(0, 0, n);

        var exact = known is { } p && p.LogPx.Length >= n ? p : PlaneIntegral.LogLikelihood(model, x, progress, cancel);
        cancel.ThrowIfCancellationRequested();
        progress?.Report($"posterior fit: {k:N0} importance samples for each of {n} images");
        var (estimate, se, elbo) = Estimates(model, x, k, seed);
        var rows = Enumerable.Range(0, n).Select(i =>
            new PosteriorFitRow(i, labels[i], exact.LogPx[i], exact.Change[i], estimate[i], se[i], elbo[i])).ToArray();

        // The images that carry the gap: the largest exact-minus-estimate first.
        var chosen = rows.OrderByDescending(r => r.EstimateGap).Take(Math.Min(shown, n)).ToArray();
        var pixels = x.flatten(1).to(ScalarType.Float32);
        var panels = new List<PosteriorPanel>();
        using var drawRng = new Generator((ulong)seed + 102);
        foreach (var row in chosen)
        {
            cancel.ThrowIfCancellationRequested();
            int i = row.Index;
            var image = x.narrow(0, i, 1);
            var q = model.Encode(image);
            // q's extent, whatever its family: the range of 2,000 of its draws.
            var draws = q.Sample(2000, drawRng).Z.select(1, 0).to(ScalarType.Float64);          // [2000, 2]
            double[] qLo = draws.amin([0]).data<double>().ToArray(), qHi = draws.amax([0]).data<double>().ToArray();
            var (grid, z) = TruePosterior(model, pixels.narrow(0, i, 1), row.Exact, exact.Lo, exact.Hi, qLo, qHi);
            var logQ = q.LogDensity(z.unsqueeze(1)).select(1, 0).to(ScalarType.Float64);         // [G*G]
            panels.Add(new PosteriorPanel(row, grid, DensityGrid.From(grid.X, grid.Y, logQ), pixels[i].data<float>().ToArray(), CountModes(grid)));
        }
        return new PosteriorFitPicture(model.Config.Name, k, rows, [.. panels]);
    }

    const string CsvHeader = "index,label,log_px_exact,exact_error,log_px_estimate,estimate_se,elbo,k";

    /// <summary>posterior_fit.csv: one row per image, its three figures for log p(x) in nats and the k of the estimate.</summary>
    public static string ToCsv(IEnumerable<PosteriorFitRow> rows, int k)
    {
        var text = new System.Text.StringBuilder(CsvHeader + "\n");
        var c = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var r in rows)
            text.Append(string.Create(c, $"{r.Index},{r.Label},{r.Exact:R},{r.ExactError:R},{r.Estimate:R},{r.EstimateSe:R},{r.Elbo:R},{k}\n"));
        return text.ToString();
    }

    /// <summary>The rows and k of a posterior_fit.csv that <see cref="ToCsv"/> wrote; null when the file is missing or not one.</summary>
    public static (PosteriorFitRow[] Rows, int K)? ReadCsv(string path)
    {
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || lines[0] != CsvHeader) return null;
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var rows = new List<PosteriorFitRow>();
        int k = 0;
        try
        {
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
            {
                var f = line.Split(',');
                if (f.Length != 8) return null;
                rows.Add(new PosteriorFitRow(int.Parse(f[0], c), int.Parse(f[1], c), double.Parse(f[2], c), double.Parse(f[3], c),
                    double.Parse(f[4], c), double.Parse(f[5], c), double.Parse(f[6], c)));
                k = int.Parse(f[7], c);
            }
        }
        catch (FormatException) { return null; }
        return rows.Count == 0 ? null : ([.. rows], k);
    }

    /// <summary>Per image: the k-sample estimate log (1/k) sum w, its delta-method standard error
    /// sd(w) / (sqrt(k) mean(w)), and the ELBO estimate mean(log w), all from one set of k draws.</summary>
    static (double[] Estimate, double[] Se, double[] Elbo) Estimates(Autoencoder model, Tensor x, int k, long seed)
    {
        using var scope = NewDisposeScope();
        using var frozen = model.Prior!.Frozen();
        using var rng = new Generator((ulong)seed + 101);
        var q = model.Encode(x);
        long n = x.shape[0];
        int perChunk = (int)Math.Max(1, Iwae.RowsPerChunk / n);
        var parts = new List<Tensor>();
        for (int done = 0; done < k; done += perChunk)
            parts.Add(model.LogWeights(q, x, Math.Min(perChunk, k - done), rng).to(ScalarType.Float64));
        var logW = cat(parts, 0);                                                     // [k, n]
        var logMean = logW.logsumexp(0) - Math.Log(k);
        var logMeanSquare = (2 * logW).logsumexp(0) - Math.Log(k);
        // Var(w) / mean(w)^2 = mean(w^2) / mean(w)^2 - 1, computed in logs; the relative standard error of the mean
        // is its square root over sqrt(k), and that is the standard error of log mean(w) to first order.
        var relativeVariance = (logMeanSquare - 2 * logMean).exp() - 1;
        var se = (relativeVariance.clamp_min(0) / k).sqrt();
        return (logMean.data<double>().ToArray(), se.data<double>().ToArray(), logW.mean([0]).data<double>().ToArray());
    }

    /// <summary>p(z|x) of one image [1, pixels] on a <see cref="GridPoints"/>-square grid over the box that holds its
    /// 99.9 % highest-density region (found on a coarse grid over the plane integral's box) and the range of q(z|x)'s
    /// draws, with the grid's points [G*G, 2] (row i*G + j = (x_j, y_i)).</summary>
    static (DensityGrid Grid, Tensor Points) TruePosterior(Autoencoder model, Tensor image, double logPx, double[] lo, double[] hi, double[] qLo, double[] qHi)
    {
        var coarse = Grid(model, image, logPx, lo, hi, 201).Grid;
        double[] boxLo = [.. qLo], boxHi = [.. qHi];
        var cells = new List<(double Mass, int I, int J)>();
        for (int i = 0; i < coarse.Y.Length; i++)
            for (int j = 0; j < coarse.X.Length; j++) cells.Add((Math.Exp(coarse.LogDensity[i, j]), i, j));
        double total = cells.Sum(c => c.Mass), running = 0;
        foreach (var c in cells.OrderByDescending(c => c.Mass))
        {
            if (running >= 0.999 * total) break;
            running += c.Mass;
            boxLo[0] = Math.Min(boxLo[0], coarse.X[c.J]); boxHi[0] = Math.Max(boxHi[0], coarse.X[c.J]);
            boxLo[1] = Math.Min(boxLo[1], coarse.Y[c.I]); boxHi[1] = Math.Max(boxHi[1], coarse.Y[c.I]);
        }
        // Square, with a margin of a tenth, so the picture's units are the same on both axes.
        double side = Math.Max(boxHi[0] - boxLo[0], boxHi[1] - boxLo[1]) * 1.2;
        double cx = (boxLo[0] + boxHi[0]) / 2, cy = (boxLo[1] + boxHi[1]) / 2;
        return Grid(model, image, logPx, [cx - side / 2, cy - side / 2], [cx + side / 2, cy + side / 2], GridPoints);
    }

    /// <summary>log p(z|x) = log p(x|z) + log p(z) - log p(x) at points x_j = lo0 + j h0, y_i = lo1 + i h1, and the
    /// points [G*G, 2] float32.</summary>
    static (DensityGrid Grid, Tensor Points) Grid(Autoencoder model, Tensor image, double logPx, double[] lo, double[] hi, int points)
    {
        var (xs, ys, mesh) = DensityGrid.Mesh(lo[0], hi[0], lo[1], hi[1], points);
        var z = mesh.to(ScalarType.Float32);
        var logJoint = PlaneIntegral.LogJoint(model, image, z)[0] - logPx;                     // [G*G]
        return (DensityGrid.From(xs, ys, logJoint), z);
    }

    /// <summary>The number of separate modes: local maxima of the grid (over their 8 neighbours) holding at least 1 % of
    /// the highest point's density, merged when one is within 3 grid steps of a higher one.</summary>
    public static int CountModes(DensityGrid grid)
    {
        int rows = grid.Y.Length, columns = grid.X.Length;
        double max = double.NegativeInfinity;
        foreach (var v in grid.LogDensity) max = Math.Max(max, v);
        var peaks = new List<(double V, int I, int J)>();
        for (int i = 1; i < rows - 1; i++)
            for (int j = 1; j < columns - 1; j++)
            {
                double v = grid.LogDensity[i, j];
                if (v < max + Math.Log(0.01)) continue;
                bool peak = true;
                for (int di = -1; di <= 1 && peak; di++)
                    for (int dj = -1; dj <= 1 && peak; dj++)
                        if ((di != 0 || dj != 0) && grid.LogDensity[i + di, j + dj] > v) peak = false;
                if (peak) peaks.Add((v, i, j));
            }
        var kept = new List<(double V, int I, int J)>();
        foreach (var p in peaks.OrderByDescending(p => p.V))
            if (!kept.Any(k => Math.Abs(k.I - p.I) <= 3 && Math.Abs(k.J - p.J) <= 3)) kept.Add(p);
        return Math.Max(1, kept.Count);
    }
}
