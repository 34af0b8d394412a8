using System.Globalization;
using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Benchmarks;

/// <summary>A log-likelihood estimate: the mean of the per-image importance-weighted bounds, nats per image, with its
/// standard error over the images.</summary>
public sealed record LikelihoodResult(double LogPx, double StandardError, long Images, int K, long Seed, double Seconds);

/// <summary>The importance-weighted bound on log p(x) over a test set with k samples per image (Burda et al. 2015), in
/// chunks of <see cref="ImagesPerChunk"/> images, each chunk with its own random generator, the per-image estimates
/// saved after every chunk: stopped (Ctrl-C, a kill) and run again, it continues where it stopped and ends with the same
/// numbers as an uninterrupted run. Memory stays that of one chunk (<see cref="Iwae.RowsPerChunk"/> decoded images).</summary>
public static class LikelihoodEstimate
{
    public const int ImagesPerChunk = 64;

    /// <summary>Returns the estimate, or null when <paramref name="cancel"/> stopped it (the progress so far is kept in
    /// <paramref name="partialPath"/>).</summary>
    public static LikelihoodResult? Run(Autoencoder vae, Tensor x, int k, long seed, string partialPath,
        IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        long n = x.shape[0];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var done = Load(partialPath, k, seed, n);
        double previousSeconds = done.Seconds;
        var estimates = new List<double>(done.Estimates);
        int resumedAt = estimates.Count;
        vae.eval();
        using var noGrad = no_grad();
        for (long first = estimates.Count; first < n; first += ImagesPerChunk)
        {
            if (cancel.IsCancellationRequested) return null;
            using var scope = NewDisposeScope();
            long chunk = first / ImagesPerChunk;
            using var rng = new Generator((ulong)seed * 1_000_003UL + (ulong)chunk);
            var part = Iwae.LogLikelihood(vae, x.narrow(0, first, Math.Min(ImagesPerChunk, n - first)), k, rng);
            estimates.AddRange(part.data<double>().ToArray());
            Save(partialPath, k, seed, n, estimates, previousSeconds + clock.Elapsed.TotalSeconds);
            progress?.Report(Progress(k, estimates, n, estimates.Count - resumedAt, clock.Elapsed));
        }
        double mean = estimates.Average();
        double sd = Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / Math.Max(1, n - 1));
        return new LikelihoodResult(mean, sd / Math.Sqrt(n), n, k, seed, previousSeconds + clock.Elapsed.TotalSeconds);
    }

    /// <summary>"log p(x), k = 5,000: 640/10,000 images, mean -82.97 so far, about 62 min left": the rate is this
    /// process's (a resumed estimate's earlier images do not count), so the time left is what this machine needs now.</summary>
    static string Progress(int k, List<double> estimates, long n, int doneHere, TimeSpan elapsed)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"log p(x), k = {k:N0}: {estimates.Count:N0}/{n:N0} images, mean {estimates.Average():0.00} so far");
        long left = n - estimates.Count;
        if (left == 0 || doneHere == 0) return text;
        double seconds = elapsed.TotalSeconds * left / doneHere;
        return text + (seconds < 90 ? $", about {seconds:0} s left" : $", about {seconds / 60:0} min left");
    }

    static (IReadOnlyList<double> Estimates, double Seconds) Load(string path, int k, long seed, long n)
    {
        if (!File.Exists(path)) return ([], 0);
        var (tensors, metadata) = SafeTensors.Read(path);
        bool same = metadata.GetValueOrDefault("k") == k.ToString(CultureInfo.InvariantCulture)
                    && metadata.GetValueOrDefault("seed") == seed.ToString(CultureInfo.InvariantCulture)
                    && metadata.GetValueOrDefault("images") == n.ToString(CultureInfo.InvariantCulture);
        if (!same || !tensors.TryGetValue("estimates", out var stored)) return ([], 0);   // another estimate's file: start afresh
        using var values = stored.ToTensor();
        double seconds = double.TryParse(metadata.GetValueOrDefault("seconds"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 0;
        return (values.data<double>().ToArray(), seconds);
    }

    static void Save(string path, int k, long seed, long n, List<double> estimates, double seconds)
    {
        using var values = tensor(estimates.ToArray(), ScalarType.Float64);
        SafeTensors.Write(path, [("estimates", values)], new Dictionary<string, string>
        {
            ["k"] = k.ToString(CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["images"] = n.ToString(CultureInfo.InvariantCulture),
            ["seconds"] = seconds.ToString("R", CultureInfo.InvariantCulture),
        });
    }
}
