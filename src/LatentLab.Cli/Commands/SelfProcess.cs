using System.Diagnostics;
using System.Globalization;

namespace LatentLab.Cli.Commands;

/// <summary>This same <c>latent</c> started again as a child process: a sweep's points, or compare's models, several at
/// once. A process each, not a thread each: libtorch's thread count is per process, and a garbage collection started by
/// one computing thread could free a scalar that another thread's native call is reading (TorchRuntime.CollectBetweenSteps).</summary>
public static class SelfProcess
{
    /// <summary>How to start this same latent again: the dotnet host and latent.dll (an installed tool has it too).</summary>
    public static (string Program, IReadOnlyList<string> Prefix) Command()
    {
        string dll = typeof(SelfProcess).Assembly.Location;
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
            : "dotnet";
        return (host, [dll]);
    }

    /// <summary>Runs <c>latent ARGS</c> to its end, handing each line of its standard output and error to the callbacks
    /// (from the reader threads), and returns its exit code. Cancelling sends it SIGTERM, which a latent command takes as
    /// "stop after the current step and save a resumable state"; the wait goes on until it has exited.</summary>
    public static async Task<int> RunAsync(IEnumerable<string> args, Action<string> output, Action<string> error,
        CancellationToken cancel, IEnumerable<string>? unsetVariables = null)
    {
        var (program, prefix) = Command();
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) start.ArgumentList.Add(a);
        foreach (var variable in unsetVariables ?? []) start.Environment.Remove(variable);
        // The child computes as this process does: with subnormals kept where this process keeps them (a program or a
        // test calling the command line in-process), so a model trained in a worker is the model trained here.
        if (!LatentLab.Runtime.TorchRuntime.FlushDenormals) start.Environment[LatentLab.Runtime.TorchRuntime.KeepDenormalsVariable] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) error(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (cancel.Register(() => { try { if (!process.HasExited) Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit(); } catch (InvalidOperationException) { } }))
            await process.WaitForExitAsync(CancellationToken.None);
        // The parameterless wait also waits for the readers to reach the end of both streams.
        process.WaitForExit();
        return process.ExitCode;
    }
}
