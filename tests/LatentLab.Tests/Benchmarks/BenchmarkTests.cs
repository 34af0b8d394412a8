using LatentLab.Benchmarks;
using LatentLab.Data;
using LatentLab.Models;
using LatentLab.Models.Vae;
using static TorchSharp.torch;

namespace LatentLab.Tests.Benchmarks;

/// <summary>The resumable log-likelihood estimate and the benchmark table.</summary>
public class BenchmarkTests
{
    [Fact]
    public void AStoppedEstimateContinuesToTheNumbersOfAnUninterruptedOne()
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(5);
        using var vae = new VariationalAutoencoder(ModelRegistry.Get("vae_2d"));
        using var x = Binarization.FixedTestSplit(data.TestImages, 0);
        using var dir = new TempDir();

        var lines = new List<string>();
        var whole = LikelihoodEstimate.Run(vae, x, 20, 0, dir["whole.safetensors"], new SynchronousProgress(lines.Add))!;
        long n = x.shape[0];
        Assert.Equal(n, whole.Images);
        Assert.True(whole.StandardError > 0 && whole.StandardError < 10, $"standard error {whole.StandardError}");

        // One line per chunk: images so far, the running mean, and (until the last) the time left at this run's rate.
        string last = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"log p(x), k = 20: {n:N0}/{n:N0} images, mean {whole.LogPx:0.00} so far");
        Assert.Equal((n + LikelihoodEstimate.ImagesPerChunk - 1) / LikelihoodEstimate.ImagesPerChunk, lines.Count);
        Assert.True(lines.Count >= 2, "the slice should take more than one chunk");
        Assert.Equal(last, lines[^1]);
        Assert.All(lines.SkipLast(1), m => Assert.Matches(@"^log p\(x\), k = 20: \d+/\d+ images, mean -\d+\.\d\d so far, about \d+ (s|min) left$", m));

        // Stopped after its first chunk (as Ctrl-C or a kill between chunks would): the finished images are kept.
        using var stop = new CancellationTokenSource();
        var stopped = LikelihoodEstimate.Run(vae, x, 20, 0, dir["resumed.safetensors"], new SynchronousProgress(_ => stop.Cancel()), stop.Token);
        Assert.Null(stopped);
        var (saved, _) = LatentLab.IO.SafeTensors.Read(dir["resumed.safetensors"]);
        Assert.Equal(LikelihoodEstimate.ImagesPerChunk, saved["estimates"].Shape[0]);

        var messages = new List<string>();
        var resumed = LikelihoodEstimate.Run(vae, x, 20, 0, dir["resumed.safetensors"], new SynchronousProgress(messages.Add))!;
        Assert.Equal(whole.LogPx, resumed.LogPx);
        Assert.Equal(whole.StandardError, resumed.StandardError);
        Assert.Equal([last], messages);   // resumed after the first chunk: one chunk left, and its line

        // A file of another estimate (another k) is not mixed in.
        var other = LikelihoodEstimate.Run(vae, x, 5, 0, dir["resumed.safetensors"])!;
        Assert.NotEqual(whole.LogPx, other.LogPx);
        Assert.True(other.LogPx <= whole.LogPx + 3 * whole.StandardError, "k = 5 should not beat k = 20 by much");
    }

    sealed class SynchronousProgress(Action<string> onReport) : IProgress<string>
    {
        public void Report(string value) => onReport(value);
    }

    [Fact]
    public void ThePublishedFiguresComeFromTheDataFileWithTheirSources()
    {
        Assert.Equal(["vae_2d", "vae_32d", "vae_32d-vamp", "vae_32d-planar", "vae_2l", "vae_2l-vamp", "vae_32d-conv"], PublishedFigures.All.Select(f => f.Row).Distinct());
        Assert.Contains(PublishedFigures.All, f => f.Row == "vae_2l" && f.Value == 85.33 && f.Source.StartsWith("Burda"));
        Assert.Contains(PublishedFigures.All, f => f.Row == "vae_32d-vamp" && f.Value == 85.57 && f.Source.StartsWith("Tomczak"));
        Assert.All(PublishedFigures.All, f => Assert.False(string.IsNullOrWhiteSpace(f.Source)));
        Assert.Contains(PublishedFigures.All, f => f.Row == "vae_32d" && f.Metric == "nll" && f.Value == 86.76 && f.K == 5000);
    }

    [Fact]
    public async Task TheQuickBenchmarkWritesTheTableAndRunningItAgainRedoesNothing()
    {
        using var dir = new TempDir();
        string[] args = ["benchmark", "--quick", "--models", "vae_2d,vae_32d", "--k", "10", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path];
        var (exit, _, error) = await LatentCommand.RunAsync(args);
        Assert.True(exit == 0, error);
        var table = File.ReadAllText(dir["benchmark/benchmark.md"]);
        Assert.Contains("| vae_2d | log p(x) -", table);
        Assert.Contains("Davidson", table);
        Assert.Contains("| vae_32d | NLL ", table);
        Assert.Contains("Burda", table);
        Assert.DoesNotContain("vae_32d-conv", table);
        var first = File.ReadAllText(dir["benchmark/benchmark.json"]);
        // The 2-d row also has log p(x) by integration over the plane, which its bound lies below (up to the bound's noise).
        var rows = System.Text.Json.JsonDocument.Parse(first).RootElement.EnumerateArray().ToList();
        var twoD = rows.Single(r => r.GetProperty("row").GetString() == "vae_2d");
        double exact = twoD.GetProperty("log_px_exact").GetDouble(), bound = twoD.GetProperty("log_px").GetDouble();
        Assert.True(bound <= exact + 3 * twoD.GetProperty("standard_error").GetDouble(), $"bound {bound} above log p(x) = {exact}");
        Assert.True(twoD.GetProperty("log_px_exact_error").GetDouble() < LatentLab.Evaluation.PlaneIntegral.Tolerance);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, rows.Single(r => r.GetProperty("row").GetString() == "vae_32d").GetProperty("log_px_exact").ValueKind);

        // Again: training is complete and the estimates' files are finished, so the same numbers come back.
        (exit, _, error) = await LatentCommand.RunAsync(args);
        Assert.True(exit == 0, error);
        string Numbers(string json) => string.Join(",", System.Text.Json.JsonDocument.Parse(json).RootElement.EnumerateArray().Select(r => r.GetProperty("log_px").GetDouble()));
        Assert.Equal(Numbers(first), Numbers(File.ReadAllText(dir["benchmark/benchmark.json"])));

        (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--models", "vae_64d", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.Equal(2, exit);
        Assert.Contains("unknown row 'vae_64d'", error);
    }

    [Fact]
    public async Task APriorRowTrainsIntoAFolderNamedAfterItsPrior()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--quick", "--precision", "fp32", "--models", "vae_2d", "--prior", "vamp", "--prior-components", "5",
            "--k", "4", "--test-size", "20", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        Assert.Contains("| vae_2d-vamp5 | log p(x) ", File.ReadAllText(dir["benchmark/benchmark.md"]));
        var model = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["benchmark/vae_2d-vamp5/config.json"])).RootElement.GetProperty("model");
        Assert.Equal("vamp", model.GetProperty("prior").GetString());
        Assert.Equal(5, model.GetProperty("prior_components").GetInt32());
    }

    [Fact]
    public async Task TheTwoLevelAndFlowRowsTrainBesideTheirPublishedFigures()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--quick", "--precision", "fp32", "--models", "vae_2l", "--k", "4", "--test-size", "20",
            "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        var table = File.ReadAllText(dir["benchmark/benchmark.md"]);
        Assert.Contains("| vae_2l | NLL ", table);
        Assert.Contains("85.33", table);                                   // Burda et al.'s two-layer VAE beside it
        var model = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["benchmark/vae_2l/config.json"])).RootElement.GetProperty("model");
        Assert.Equal(50, model.GetProperty("top_latent_dim").GetInt32());

        (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--quick", "--precision", "fp32", "--models", "vae_32d", "--posterior", "planar", "--flow-steps", "2", "--k", "4",
            "--test-size", "20", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        table = File.ReadAllText(dir["benchmark/benchmark.md"]);
        Assert.Contains("| vae_32d-planar2 | NLL ", table);
        Assert.Contains("Rezende", table);

        // The VampPrior on the top layer, trained on the importance-weighted bound: beside the VampPrior paper's hierarchical VAE.
        (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--quick", "--precision", "fp32", "--models", "vae_2l", "--prior", "vamp", "--prior-components", "5",
            "--objective", "iwae", "--train-k", "2", "--lr-schedule", "cosine", "--kl-warmup", "3", "--k", "4", "--test-size", "20",
            "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        table = File.ReadAllText(dir["benchmark/benchmark.md"]);
        Assert.Contains("| vae_2l-iwae2-vamp5 | NLL ", table);
        Assert.Contains("83.19", table);
        // The warm-up is cut to the row's one epoch, and the run folder is named after the whole recipe.
        model = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["benchmark/vae_2l-iwae2-vamp5-cosine-warmup1/config.json"])).RootElement.GetProperty("model");
        Assert.Equal(2, model.GetProperty("iwae_samples").GetInt32());
        // benchmark.json says the recipe beside the figures: a row read without its command still says how it was made.
        var row = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["benchmark/benchmark.json"])).RootElement.EnumerateArray().Single();
        Assert.Equal("vae_2l-iwae2-vamp5", row.GetProperty("model").GetString());
        Assert.Equal("vae_2l-iwae2-vamp5-cosine-warmup1", row.GetProperty("folder").GetString());
        Assert.Equal("iwae", row.GetProperty("objective").GetString());
        Assert.Equal(2, row.GetProperty("train_k").GetInt32());
        Assert.Equal("cosine", row.GetProperty("lr_schedule").GetString());
        Assert.Equal(1, row.GetProperty("kl_warmup_epochs").GetInt32());
        Assert.Equal("fp32", row.GetProperty("precision").GetString());
        Assert.Equal(LatentLab.Runtime.Cpu.Current.ToString(), row.GetProperty("cpu").GetString());
        Assert.True(row.GetProperty("threads").GetInt32() >= 1);

        (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--quick", "--models", "vae_2l", "--prior", "mog", "--out", dir.Path]);
        Assert.Equal(2, exit);
        Assert.Contains("--prior standard or vamp (p(z2)) only", error);
    }

    [Fact]
    public async Task TheConvRowTrainsTheWidthsAskedForIntoAFolderNamedAfterThem()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["benchmark", "--quick", "--precision", "fp32", "--models", "vae_32d-conv", "--conv-channels", "8,16", "--hidden-dims", "24",
            "--k", "4", "--test-size", "20", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path]);
        Assert.True(exit == 0, error);
        Assert.Contains("| vae_32d-conv-ch8.16-h24 | NLL ", File.ReadAllText(dir["benchmark/benchmark.md"]));
        var model = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["benchmark/vae_32d-conv-ch8.16-h24/config.json"])).RootElement.GetProperty("model");
        Assert.Equal([8, 16], model.GetProperty("conv_channels").EnumerateArray().Select(c => c.GetInt32()));
        Assert.Equal([24], model.GetProperty("hidden_dims").EnumerateArray().Select(c => c.GetInt32()));
    }
}
