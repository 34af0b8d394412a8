using System.Diagnostics;
using LatentLab.IO;

namespace LatentLab.Tests.Cli;

public class DiskFullTests
{
    static (int Exit, string Error) RunLatent(string shellPrefix, string arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "latent.dll");
        // Ignoring SIGXFSZ (inherited across exec) makes an over-limit write fail with EFBIG instead of killing the
        // process: the same failure path as a full disk, without needing root to mount a tiny file system. The runtime's
        // W^X double mapping sizes a memfd, which a file-size limit forbids, so it is turned off for the child.
        var start = new ProcessStartInfo("bash", ["-c", $"{shellPrefix} trap '' XFSZ; export DOTNET_EnableWriteXorExecute=0; exec dotnet '{dll}' {arguments}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error.Result);
    }

    [LinuxFact("it limits the file size with bash's ulimit -f and ignores SIGXFSZ")]
    public void AWriteThatCannotCompleteFailsClearlyAndKeepsThePreviousCheckpoint()
    {
        using var dir = new TempDir();
        var common = $"train --model ae_2d --batch-size 100 --iwae-k 0 --threads 2 --data-dir '{Fixtures.MnistSliceFolder}' --out '{dir.Path}'";
        var (exit, error) = RunLatent("", common + " --epochs 1");
        Assert.True(exit == 0, error);

        var run = Path.Combine(dir.Path, "mnist", "ae_2d");
        var files = new[] { "model.safetensors", "checkpoint.safetensors", "history.csv" };
        var before = files.ToDictionary(f => f, f => Hashing.FileSha256(Path.Combine(run, f)));

        // 1 MB per file: enough for config.json and history.csv, not for the 4 MB of weights.
        (exit, error) = RunLatent("ulimit -f 1024;", common + " --epochs 2 --resume");
        Assert.Equal(2, exit);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("could not write", lines[0]);
        Assert.Contains("model.safetensors", lines[0]);

        foreach (var f in files) Assert.Equal(before[f], Hashing.FileSha256(Path.Combine(run, f)));
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
    }
}
