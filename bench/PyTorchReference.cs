using System.Diagnostics;
using System.Globalization;

/// <summary>Runs bench/pytorch_reference.py (the same vae_32d loop in PyTorch, float32 and bfloat16 autocast) in the
/// same bench run, so that the ratios compare like with like on a shared machine. Skipped, with the reason, where
/// there is no python3 with torch.</summary>
static class PyTorchReference
{
    /// <summary>What the reference measured in one precision: the median seconds per epoch after the first, and the
    /// training loss after each epoch (the mean over the epoch's batches, as LatentLab's history.csv has it).</summary>
    public sealed record Result(double Seconds, IReadOnlyList<double> EpochLosses);

    /// <summary>PyTorch's results by precision ("fp32", "bf16"), or null with the reason printed.</summary>
    public static IReadOnlyDictionary<string, Result>? Run(int epochs, int threads, string dataFolder)
    {
        string script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../pytorch_reference.py"));
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { script, "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture), "--data", dataFolder },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            var last = output.Result.Split('\n').LastOrDefault(l => l.StartsWith("result ", StringComparison.Ordinal));
            if (process.ExitCode != 0 || last is null)
            {
                Console.WriteLine($"PyTorch reference skipped: {error.Result.Trim().Split('\n').LastOrDefault()}");
                return null;
            }
            // "PyTorch 1.13.1, 1 threads, 60000 images, batch 128, fp32" opens each precision's block of
            // "epoch 1: train loss 179.78, 5.76 s" lines.
            var losses = new Dictionary<string, List<double>>();
            List<double>? current = null;
            foreach (var line in output.Result.Split('\n'))
            {
                if (line.StartsWith("PyTorch ", StringComparison.Ordinal)) losses[line.Split(", ").Last().Trim()] = current = [];
                else if (line.StartsWith("epoch ", StringComparison.Ordinal) && current is not null)
                    current.Add(double.Parse(line.Split("train loss ")[1].Split(',')[0], CultureInfo.InvariantCulture));
            }
            return last["result ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split('='))
                .ToDictionary(kv => kv[0], kv => new Result(double.Parse(kv[1], CultureInfo.InvariantCulture), losses.GetValueOrDefault(kv[0]) ?? []));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"PyTorch reference skipped: {e.Message}");
            return null;
        }
    }
}
