using System.Reflection;
using System.Text.Json;
using LatentLab.IO;

namespace LatentLab.Benchmarks;

/// <summary>A published log-likelihood figure: which of our rows it stands beside, its value, its k and its source.</summary>
/// <param name="Metric">"nll" (-log p(x), lower is better) or "log_px" (higher is better), nats per test image.</param>
public sealed record PublishedFigure(string Row, string Label, string Metric, double Value, int K, string Source, string? Url = null);

/// <summary>The published figures <c>latent benchmark</c> compares with, from the one data file that holds them
/// (<c>src/LatentLab/Benchmarks/published.json</c>, embedded in the library).</summary>
public static class PublishedFigures
{
    sealed record FileContents(string About, IReadOnlyList<PublishedFigure> Figures);

    public static IReadOnlyList<PublishedFigure> All { get; } = Load();

    static IReadOnlyList<PublishedFigure> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LatentLab.Benchmarks.published.json")
            ?? throw new InvalidOperationException("published.json is not embedded");
        return JsonSerializer.Deserialize<FileContents>(stream, Json.Options)!.Figures;
    }

    public static IEnumerable<PublishedFigure> For(string row) => All.Where(f => f.Row == row);
}
