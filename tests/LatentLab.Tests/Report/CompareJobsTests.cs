namespace LatentLab.Tests.Report;

/// <summary>compare with its models in worker processes (<c>--jobs 2</c>): a failing worker, and an interrupted compare.
/// That two at once give the numbers of one after another is in <see cref="CompareReportTests"/>, on its fixture.</summary>
public class CompareJobsTests
{
    static string[] Compare(string outFolder, int epochs) =>
        ["compare", "--models", "vae_2d,ae_2d", "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", Fixtures.MnistSliceFolder,
         "--out", outFolder, "--iwae-k", "0", "--tsne-points", "50", "--jobs", "2", "--threads", "1"];

    /// <summary>A worker that fails (its model's checkpoint is not one) is compare's one line, named after the model,
    /// with the worker's exit code; the file is left as it was.</summary>
    [Fact]
    public async Task AFailingWorkerIsOneLineNamingItsModel()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["mnist/ae_2d"]);
        File.WriteAllText(dir["mnist/ae_2d/checkpoint.safetensors"], "not a checkpoint");
        var (exit, output, error) = await LatentCommand.RunAsync(Compare(dir.Path, 3));
        Assert.True(exit == 2, $"exit {exit}\n{output}\n{error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("latent: ae_2d: ", lines[0]);
        Assert.Contains("checkpoint.safetensors", lines[0]);
        Assert.Equal("not a checkpoint", File.ReadAllText(dir["mnist/ae_2d/checkpoint.safetensors"]));
        Assert.False(File.Exists(dir["mnist/comparison.json"]));
    }

    /// <summary>Stopped while its workers train (as Ctrl-C stops it), compare exits 130 and its workers keep their
    /// checkpoints: the same command then continues from them and finishes.</summary>
    [Fact]
    public async Task InterruptedWorkersKeepTheirCheckpointsAndTheSameCommandContinues()
    {
        using var dir = new TempDir();
        using var stop = new CancellationTokenSource();
        var running = LatentCommand.RunAsync(Compare(dir.Path, 60), stop.Token);
        // Stop once a worker has finished an epoch (its checkpoint is written after each).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!running.IsCompleted && !File.Exists(dir["mnist/vae_2d/checkpoint.safetensors"]) && !File.Exists(dir["mnist/ae_2d/checkpoint.safetensors"]))
        {
            Assert.True(DateTime.UtcNow < deadline, "no worker finished an epoch in 3 minutes");
            await Task.Delay(50);
        }
        stop.Cancel();
        var (exit, output, error) = await running;
        Assert.True(exit == 130, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("interrupted", error);
        Assert.False(File.Exists(dir["mnist/comparison.json"]));

        var (again, outputAgain, errorAgain) = await LatentCommand.RunAsync(Compare(dir.Path, 60));
        Assert.True(again == 0, errorAgain);
        Assert.Matches(@"(vae_2d|ae_2d): continuing from its checkpoint after epoch [1-9]", outputAgain);
        Assert.True(File.Exists(dir["mnist/comparison.json"]));
        foreach (var model in new[] { "vae_2d", "ae_2d" })
            Assert.Equal(61, File.ReadAllLines(dir[$"mnist/{model}/history.csv"]).Length);   // the header and 60 epochs, none twice
    }
}
