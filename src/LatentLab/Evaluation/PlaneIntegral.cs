using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Evaluation;

/// <summary>log p(x) of each image under a 2-d model, by integration over the plane, with the error the grid states.</summary>
/// <param name="LogPx">Per image, nats.</param>
/// <param name="Change">Per image, how far the value moved at the last refinement (the halving of the grid spacing
/// that ended it): the stated error, below <see cref="PlaneIntegral.Tolerance"/> for a converged image.</param>
/// <param name="PointsPerSide">Per image, the grid that ended its refinement (points per side of the box).</param>
/// <param name="Lo">With <paramref name="Hi"/>, the rectangle integrated over: z1 from Lo[0] to Hi[0], z2 from Lo[1] to Hi[1].</param>
public sealed record PlaneLikelihood(double[] LogPx, double[] Change, int[] PointsPerSide, double[] Lo, double[] Hi)
{
    public double Mean => LogPx.Average();
    public double MaxChange => Change.Max();
    public bool Converged => Change.All(c => c < PlaneIntegral.Tolerance);
}

/// <summary>The exact log-likelihood of a 2-d model: log p(x) = log of the integral of p(x|z) p(z) over the plane, by
/// the trapezoid rule on nested grids over a box that holds the prior's mass and every image's posterior.</summary>
/// <remarks>
/// Why it is exact enough: the integrand is smooth and vanishes at the box's edges, where the trapezoid rule converges
/// faster than any power of the spacing once the spacing is below the width of the posterior's peaks; each refinement
/// halves the spacing (the old points are kept, so a level costs only its new points), and an image stops when its
/// value moves by less than <see cref="Tolerance"/> nats. One decoding of each grid point serves every image: log p(x|z)
/// for all images is one matrix product of the images with the decoded logits (x l - softplus(l), summed over pixels).
/// The box: the prior's draws' range and each posterior's mean +- 8 standard deviations, whichever is wider; p(z) and
/// q(z|x) put less than 1e-14 of their mass beyond that. (A flow posterior: the range of 256 of its draws, widened on each
/// side by that range.)
///
/// Where each image's mass lies: the grids up to <see cref="SurveyIntervals"/> intervals a side cover the whole box for
/// every image (the survey); after it, an image is summed only over the cells of a 64 x 64 partition of the box that held
/// more than e^-<see cref="Margin"/> of its survey sum, and their neighbours, and a point is decoded only when some image
/// still refining needs it. A trained model's posterior covers a small part of the 4,096 cells, so the finer grids (3
/// million new points at 2,048 intervals, 12.6 million at 4,096) cost a part of what decoding the whole box costs. What
/// is left out: at every survey point of a cell left out the integrand is below e^-40 (4e-18) of the image's sum over the
/// survey, and a mode hidden there would have to fall by 40 nats within half a survey cell's diagonal (spacing h over the
/// square root of 2): narrower than h / sqrt(4 x 40), 1/12.6 of the survey's spacing (0.003 on a box 10 wide). The test
/// <c>TheSurveyedGridGivesTheWholeGridsValues</c> holds the two ways together on a trained model.
/// </remarks>
public static class PlaneIntegral
{
    /// <summary>An image's value is final when one refinement moves it by less than this, nats.</summary>
    public const double Tolerance = 0.01;
    public const int FirstIntervals = 64, MaxIntervals = 4096;
    /// <summary>The grids up to this many intervals a side are summed whole for every image still refining; finer ones
    /// only over each image's cells.</summary>
    public const int SurveyIntervals = 256;
    /// <summary>A cell belongs to an image when the survey's log integrand in it comes within this many nats of the
    /// image's largest value (or it neighbours such a cell).</summary>
    public const double Margin = 40;
    /// <summary>Cells of the support map per side: the first grid's cells.</summary>
    const int Cells = FirstIntervals;
    /// <remarks>ImagesPerChunk keeps each [images, points] temporary at a few megabytes: at 2,000 images a chunk's float32
    /// and float64 log-joints and its cell masses were 32-64 MB each, allocated afresh by the kernel's page faults (5.8
    /// million of them, a third of the integral's CPU time, on an AMD EPYC VM); at 256, compare's vae_2d on the whole test
    /// split takes 65 s instead of 104 (`bench -- --plane`), each image's log p(x) within 6e-7 nats (float32 products of
    /// another shape). 2,048 points a chunk instead of 4,096 was slower (82 s).</remarks>
    const int PointsPerChunk = 4096, ImagesPerChunk = 256, PointsPerBlock = 2048;

    public static bool Applies(Autoencoder model) =>
        model.IsVariational && model.Config.LatentDim == 2 && model.Config.Recon == ReconstructionLoss.Bce;

    /// <param name="x">Images [N, C, H, W], binary or in [0, 1] (read through the Bernoulli likelihood, as the
    /// importance-weighted estimate reads them).</param>
    public static PlaneLikelihood LogLikelihood(Autoencoder model, Tensor x, IProgress<string>? progress = null, CancellationToken cancel = default) =>
        LogLikelihood(model, x, SurveyIntervals, progress, cancel);

    /// <param name="surveyIntervals">The finest grid summed whole; MaxIntervals sums every grid whole (the reference the
    /// surveyed way is tested against).</param>
    public static PlaneLikelihood LogLikelihood(Autoencoder model, Tensor x, int surveyIntervals, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        if (!Applies(model)) throw new ArgumentException($"{model.Config.Name}: the plane integral needs a 2-d VAE with the Bernoulli likelihood", nameof(model));
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var images = x.flatten(1).to(ScalarType.Float32);
        var (lo, hi) = Box(model, x);

        // The running log-sum of the integrand over the points so far, per image (no area factor: added at the end).
        var running = full(n, double.NegativeInfinity, dtype: ScalarType.Float64);
        var logPx = new double[n];
        var change = Enumerable.Repeat(double.PositiveInfinity, (int)n).ToArray();
        var sides = new int[n];
        var open = Enumerable.Range(0, (int)n).ToList();
        // Per image, the log of the survey's sum in each cell (float32 [N, Cells^2]); then which cells it sums.
        var cellMass = full(n, Cells * Cells, float.NegativeInfinity);
        Tensor? support = null;
        for (int intervals = FirstIntervals; intervals <= MaxIntervals && open.Count > 0; intervals *= 2)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report($"exact log p(x): grid {intervals + 1}x{intervals + 1}, {open.Count:N0} of {n:N0} images still refining");
            using var levelScope = NewDisposeScope();
            var (points, cells) = NewPoints(intervals, lo, hi);               // [P, 2] float32, [P] cell of each
            var index = tensor(open.Select(i => (long)i).ToArray());
            var subset = images.index_select(0, index);
            Tensor added;                                                      // [open] float64
            if (intervals <= surveyIntervals)
            {
                var seen = cellMass.index_select(0, index);
                added = LogSumOver(model, subset, points, cells, seen);
                cellMass.index_copy_(0, index, seen);
            }
            else
            {
                support ??= Support(cellMass).DetachFromDisposeScope();
                added = LogSumOverSupport(model, subset, points, cells, support.index_select(0, index), intervals);
            }
            var previous = running.index_select(0, index);
            var updated = LogAdd(previous, added);
            running.index_copy_(0, index, updated);
            double logArea = Math.Log((hi[0] - lo[0]) / intervals) + Math.Log((hi[1] - lo[1]) / intervals);
            var values = (updated + logArea).data<double>().ToArray();
            var stillOpen = new List<int>();
            for (int j = 0; j < open.Count; j++)
            {
                int i = open[j];
                if (sides[i] > 0) change[i] = Math.Abs(values[j] - logPx[i]);
                logPx[i] = values[j];
                sides[i] = intervals + 1;
                if (!(change[i] < Tolerance)) stillOpen.Add(i);
            }
            open = stillOpen;
        }
        support?.Dispose();
        return new PlaneLikelihood(logPx, change, sides, lo, hi);
    }

    /// <summary>log_px_exact.csv, one row per image: its index, log p(x), the change at the last refinement, the grid's
    /// points per side, and the box integrated over (lo1, lo2, hi1, hi2: the same on every row, so the file stays a
    /// plain table).</summary>
    public static string ToCsv(PlaneLikelihood p)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var text = new System.Text.StringBuilder("index,log_px_exact,change,points_per_side,lo1,lo2,hi1,hi2\n");
        for (int i = 0; i < p.LogPx.Length; i++)
            text.Append(string.Create(c, $"{i},{p.LogPx[i]:R},{p.Change[i]:R},{p.PointsPerSide[i]},{p.Lo[0]:R},{p.Lo[1]:R},{p.Hi[0]:R},{p.Hi[1]:R}\n"));
        return text.ToString();
    }

    /// <summary>What <see cref="ToCsv"/> wrote; null when the file is not such a table.</summary>
    public static PlaneLikelihood? ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || !lines[0].StartsWith("index,log_px_exact,", StringComparison.Ordinal)) return null;
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        if (rows.Any(r => r.Length != 8)) return null;
        var first = rows[0];
        return new PlaneLikelihood(rows.Select(r => double.Parse(r[1], c)).ToArray(), rows.Select(r => double.Parse(r[2], c)).ToArray(),
            rows.Select(r => int.Parse(r[3], c)).ToArray(), [double.Parse(first[4], c), double.Parse(first[5], c)], [double.Parse(first[6], c), double.Parse(first[7], c)]);
    }

    /// <summary>The box: the range of 20,000 prior draws, widened by a tenth, and every posterior's mean +- 8 sigma.</summary>
    static (double[] Lo, double[] Hi) Box(Autoencoder model, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var rng = new Generator(12345);
        var draws = model.SamplePrior(20_000, rng).to(ScalarType.Float64);
        var dmin = draws.amin([0]);
        var dmax = draws.amax([0]);
        var pad = (dmax - dmin) * 0.1;
        var q = Evaluator.InBatches(x, 1000, b => Extent(model.Encode(b), rng));
        var lo = minimum(dmin - pad, q.narrow(1, 0, 2).amin([0])).data<double>().ToArray();
        var hi = maximum(dmax + pad, q.narrow(1, 2, 2).amax([0])).data<double>().ToArray();
        return (lo, hi);
    }

    /// <summary>Per image, [lo1, lo2, hi1, hi2] float64: a Gaussian's mean +- 8 sigma; any other family's (a flow's) range
    /// of 256 draws, widened on each side by that range.</summary>
    static Tensor Extent(Models.Posteriors.Posterior q, Generator rng)
    {
        if (q is Models.Posteriors.DiagonalGaussianPosterior g)
            return cat([g.Mu - 8 * (g.LogVar * 0.5).exp(), g.Mu + 8 * (g.LogVar * 0.5).exp()], 1).to(ScalarType.Float64);
        var draws = q.Sample(256, rng).Z.to(ScalarType.Float64);
        var min = draws.amin([0]);
        var max = draws.amax([0]);
        return cat([min - (max - min), max + (max - min)], 1);
    }

    /// <summary>Per image, the cells it is summed over after the survey, [N, Cells, Cells] bool: those that held more than
    /// e^-<see cref="Margin"/> of the survey's sum, and their eight neighbours.</summary>
    static Tensor Support(Tensor cellMass)
    {
        using var scope = NewDisposeScope();
        var total = cellMass.logsumexp(1, keepdim: true);
        var near = cellMass.gt(total - Margin).to(ScalarType.Float32).view(-1, 1, Cells, Cells);
        var grown = nn.functional.max_pool2d(near, 3, 1, 1);
        return grown.view(-1, Cells, Cells).gt(0).MoveToOuterDisposeScope();
    }

    /// <summary>The grid points a level adds: all of the (intervals + 1)^2 grid at the first level, then those with an
    /// odd index in either coordinate (the others were the previous level's); and the cell of the first level's grid each
    /// lies in (row-major over Cells x Cells; the last row and column of points belong to the last cells).</summary>
    internal static (Tensor Points, Tensor Cells) NewPoints(int intervals, double[] lo, double[] hi)
    {
        using var scope = NewDisposeScope();
        var u = linspace(lo[0], hi[0], intervals + 1, dtype: ScalarType.Float64);
        var v = linspace(lo[1], hi[1], intervals + 1, dtype: ScalarType.Float64);
        var grid = meshgrid([u, v], indexing: "ij");
        var points = stack([grid[0].flatten(), grid[1].flatten()], 1);           // [(n+1)^2, 2], row i*(n+1)+j
        var i = arange(intervals + 1).unsqueeze(1).expand(intervals + 1, intervals + 1).flatten();
        var j = arange(intervals + 1).unsqueeze(0).expand(intervals + 1, intervals + 1).flatten();
        int perCell = intervals / Cells;
        var cells = i.div(perCell, RoundingMode.floor).clamp_max(Cells - 1) * Cells + j.div(perCell, RoundingMode.floor).clamp_max(Cells - 1);
        if (intervals > FirstIntervals)
        {
            var isNew = i.remainder(2).eq(1).logical_or(j.remainder(2).eq(1)).nonzero().flatten();
            points = points.index_select(0, isNew);
            cells = cells.index_select(0, isNew);
        }
        return (points.to(ScalarType.Float32).MoveToOuterDisposeScope(), cells.MoveToOuterDisposeScope());
    }

    /// <summary>log p(x|z) + log p(z) of each image of <paramref name="images"/> [N, pixels] at each of
    /// <paramref name="points"/> [P, 2]: [N, P] float64 (keep N * P modest: the result is held whole). log p(x|z) =
    /// sum x l - softplus(l) over the pixels of the decoded logits l, one matrix product for all images per chunk of points.</summary>
    public static Tensor LogJoint(Autoencoder model, Tensor images, Tensor points)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long first = 0; first < points.shape[0]; first += PointsPerChunk)
        {
            var z = points.narrow(0, first, Math.Min(PointsPerChunk, points.shape[0] - first));
            var (logits, offset) = Decoded(model, z);
            parts.Add((images.mm(logits.t()) + offset).to(ScalarType.Float64));
        }
        return cat(parts, 1).MoveToOuterDisposeScope();
    }

    /// <summary>log of the sum over <paramref name="points"/> [P, 2] of p(x|z) p(z), per image of <paramref name="images"/>
    /// [N, pixels]: [N] float64; and into <paramref name="cellMass"/> [N, Cells^2] (log-sums, float32), the same sum
    /// per cell (<paramref name="cells"/> [P]: each point's cell).</summary>
    static Tensor LogSumOver(Autoencoder model, Tensor images, Tensor points, Tensor cells, Tensor cellMass)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        var running = full(n, double.NegativeInfinity, dtype: ScalarType.Float64);
        for (long first = 0; first < points.shape[0]; first += PointsPerChunk)
        {
            Runtime.TorchRuntime.CollectBetweenSteps();
            using var chunkScope = NewDisposeScope();
            var z = points.narrow(0, first, Math.Min(PointsPerChunk, points.shape[0] - first));
            var (logits, offset) = Decoded(model, z);
            var where = cells.narrow(0, first, z.shape[0]);
            for (long i = 0; i < n; i += ImagesPerChunk)
            {
                using var imageScope = NewDisposeScope();
                long m = Math.Min(ImagesPerChunk, n - i);
                var logJoint = (images.narrow(0, i, m).mm(logits.t()) + offset).to(ScalarType.Float64);   // [m, P]
                var slice = running.narrow(0, i, m);
                slice.copy_(LogAdd(slice, logJoint.logsumexp(1)));
                var peak = logJoint.amax([1], keepdim: true);
                var mass = zeros(m, Cells * Cells, dtype: ScalarType.Float64)
                    .scatter_add_(1, where.unsqueeze(0).expand(m, -1), (logJoint - peak).exp());
                var seen = cellMass.narrow(0, i, m);
                seen.copy_(LogAdd(seen, (mass.log() + peak).to(ScalarType.Float32)));
            }
        }
        return running.MoveToOuterDisposeScope();
    }

    /// <summary>The same sum, each image over the points in its own cells only (<paramref name="support"/> [N, Cells,
    /// Cells]): the points are taken in blocks of cells large enough to hold about <see cref="PointsPerBlock"/> of them,
    /// and a block is decoded only when some image's cells meet it.</summary>
    static Tensor LogSumOverSupport(Autoencoder model, Tensor images, Tensor points, Tensor cells, Tensor support, int intervals)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        // Blocks of f x f cells: a cell holds about 3/4 (intervals / Cells)^2 of this level's points.
        double perCell = 0.75 * Math.Pow((double)intervals / Cells, 2);
        int f = 1;
        while (f < Cells && perCell * f * f < PointsPerBlock) f *= 2;
        int blocksPerSide = Cells / f;
        var side = arange(Cells).div(f, RoundingMode.floor);
        var blockOfCell = (side.unsqueeze(1) * blocksPerSide + side.unsqueeze(0)).flatten();
        var block = blockOfCell.index_select(0, cells);                                            // [P]
        var order = block.argsort();
        var sorted = points.index_select(0, order);
        var counts = block.bincount(null, blocksPerSide * blocksPerSide).data<long>().ToArray();
        var wanted = nn.functional.max_pool2d(support.to(ScalarType.Float32).unsqueeze(1), f, f)
            .view(n, -1).gt(0);                                                                    // [N, blocks]
        var needed = wanted.any(0).data<bool>().ToArray();

        var running = full(n, double.NegativeInfinity, dtype: ScalarType.Float64);
        long start = 0;
        for (int b = 0; b < counts.Length; start += counts[b], b++)
        {
            if (!needed[b] || counts[b] == 0) continue;
            Runtime.TorchRuntime.CollectBetweenSteps();
            using var blockScope = NewDisposeScope();
            var who = wanted.select(1, b).nonzero().flatten();
            var mine = images.index_select(0, who);
            var sums = full(who.shape[0], double.NegativeInfinity, dtype: ScalarType.Float64);
            for (long first = start; first < start + counts[b]; first += PointsPerChunk)
            {
                using var chunkScope = NewDisposeScope();
                var (logits, offset) = Decoded(model, sorted.narrow(0, first, Math.Min(PointsPerChunk, start + counts[b] - first)));
                for (long i = 0; i < mine.shape[0]; i += ImagesPerChunk)
                {
                    using var imageScope = NewDisposeScope();
                    long m = Math.Min(ImagesPerChunk, mine.shape[0] - i);
                    var logJoint = (mine.narrow(0, i, m).mm(logits.t()) + offset).to(ScalarType.Float64);   // [m, P]
                    var slice = sums.narrow(0, i, m);
                    slice.copy_(LogAdd(slice, logJoint.logsumexp(1)));
                }
            }
            running.index_copy_(0, who, LogAdd(running.index_select(0, who), sums));
        }
        return running.MoveToOuterDisposeScope();
    }

    /// <summary>log(e^a + e^b), elementwise: how a running log-sum takes in another.</summary>
    static Tensor LogAdd(Tensor a, Tensor b) => stack([a, b]).logsumexp(0);

    /// <summary>The decoded logits l [P, pixels] of <paramref name="z"/> [P, 2] and what log p(x|z) + log p(z) adds to
    /// x . l for any image: log p(z) - sum softplus(l), [P].</summary>
    static (Tensor Logits, Tensor Offset) Decoded(Autoencoder model, Tensor z)
    {
        var logits = model.Decode(z).flatten(1);
        return (logits, model.Prior!.LogDensity(z) - nn.functional.softplus(logits).sum([1]));
    }
}
