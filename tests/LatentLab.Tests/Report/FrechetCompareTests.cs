using LatentLab.Evaluation;
using LatentLab.IO;

namespace LatentLab.Tests.Report;

/// <summary>compare measures again a model whose metrics.json predates the Fréchet distances, and only that.</summary>
public class FrechetCompareTests
{
    [Fact]
    public async Task AModelMeasuredBeforeTheFrechetDistancesIsMeasuredAgain()
    {
        using var dir = new TempDir();
        string[] common = ["--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path, "--iwae-k", "0"];
        Assert.Equal(0, (await LatentCommand.RunAsync(["compare", "--models", "vae_2d", "--epochs", "1", "--tsne-points", "50", .. common])).Exit);
        var path = dir["mnist/vae_2d/metrics.json"];
        var measured = Json.ReadFile<Metrics>(path);
        Assert.NotNull(measured.SampleFrechet);

        // As written before this version: no distances (and the file still newer than the weights).
        Json.WriteFile(path, measured with { SampleFrechet = null, ReconFrechet = null, FrechetTrainTest = null, FrechetNetSha256 = null, FrechetNetAccuracy = null });
        var (exit, output, _) = await LatentCommand.RunAsync(["compare", "--models", "vae_2d", "--epochs", "1", "--tsne-points", "50", .. common]);
        Assert.Equal(0, exit);
        Assert.Contains("vae_2d: trained (1 epoch); evaluating", output);
        Assert.Equal(measured.SampleFrechet, Json.ReadFile<Metrics>(path).SampleFrechet);

        (exit, output, _) = await LatentCommand.RunAsync(["compare", "--models", "vae_2d", "--epochs", "1", "--tsne-points", "50", .. common]);
        Assert.Equal(0, exit);
        Assert.Contains("vae_2d: trained (1 epoch); evaluated and drawn", output);
    }
}
