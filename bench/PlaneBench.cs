using System.Diagnostics;
using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Storage;
using static TorchSharp.torch;

/// <summary>`--plane RUN_FOLDER`: the exact log p(x) of a trained 2-d VAE over the whole test split (what `latent
/// evaluate` and `compare` compute for vae_2d), timed; with `--plane-whole`, also the reference that sums every grid over
/// the whole box, with the largest difference between the two.</summary>
static class PlaneBench
{
    public static void Run(string runFolder, Dataset data, bool whole)
    {
        using var model = new RunFolder(runFolder).LoadModel();
        using var x = data.TestImages;
        var clock = Stopwatch.StartNew();
        var surveyed = PlaneIntegral.LogLikelihood(model, x);
        double seconds = clock.Elapsed.TotalSeconds;
        Report($"surveyed (the default)", surveyed, seconds);
        if (!whole) return;
        clock.Restart();
        var reference = PlaneIntegral.LogLikelihood(model, x, PlaneIntegral.MaxIntervals);
        Report("every grid whole", reference, clock.Elapsed.TotalSeconds);
        double largest = surveyed.LogPx.Zip(reference.LogPx, (a, b) => Math.Abs(a - b)).Max();
        Console.WriteLine($"largest difference {largest:E2} nats; same grids for every image: {surveyed.PointsPerSide.SequenceEqual(reference.PointsPerSide)}");
    }

    static void Report(string label, PlaneLikelihood p, double seconds)
    {
        var grids = string.Join(", ", p.PointsPerSide.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count():N0}"));
        Console.WriteLine($"exact log p(x), {label}: {seconds:F1} s for {p.LogPx.Length:N0} images; mean {p.Mean:F4} nats, largest last change {p.MaxChange:F4}; images by final grid side {grids}");
    }
}
