using System.Diagnostics;
using System.Globalization;

/// <summary>Runs bench/pytorch_reference.py (the same vae_32d loop in PyTorch, float32 and bfloat16 autocast) in the
/// same bench run, so that the ratios compare like with like on a shared machine. Skipped, with the reason, where
/// there is no python3 with torch.</summary>
static class PyTorchReference
{
    /// <summary>PyTorch's seconds per epoch by precision ("fp32", "bf16"), or null with the reason printed.</summary>
    public static IReadOnlyDictionary<string, double>? Run(int epochs, int threads, string dataFolder)
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
            return last["result ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split('='))
                .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"PyTorch reference skipped: {e.Message}");
            return null;
        }
    }
}
