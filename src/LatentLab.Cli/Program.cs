using System.CommandLine;
using System.Runtime.InteropServices;
using LatentLab;
using LatentLab.Cli;
using LatentLab.Cli.Commands;
using LatentLab.Cli.Ui;

using var cancel = new CancellationTokenSource();
// First Ctrl-C (or SIGTERM): stop after the current batch and save a resumable state. A second one: exit now.
Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine("latent: stopping after the current step (Ctrl-C again to abort)...");
    cancel.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancel.Cancel();
});
// Subnormal numbers flushed to zero on the threads that compute (LatentLab.Runtime.TorchRuntime.FlushDenormals).
LatentLab.Runtime.TorchRuntime.FlushDenormals = LatentLab.Runtime.TorchRuntime.FlushDenormalsByEnvironment();
// The whole command on this thread, its awaits included: libtorch's OpenMP slows down once more threads than cores
// have run its parallel work (LatentLab.Runtime.SingleThreadContext).
return LatentLab.Runtime.SingleThreadContext.Run(() => LatentCli.RunAsync(args, CliConsole.System(), cancel.Token));

namespace LatentLab.Cli
{
    /// <summary>The <c>latent</c> command line: parsing, dispatch to one command per file, and error policy.</summary>
    public static class LatentCli
    {
        /// <summary>The options whose values are paths.</summary>
        static readonly string[] PathOptions = ["--out", "--data-dir", "--dataset", "--file", "--to", "--output"];

        /// <summary>The user-given path an I/O exception is about (its message names it or a path inside it), if any.</summary>
        static string? UserPath(ParseResult parse, Exception e)
        {
            var given = parse.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
                .Where(o => PathOptions.Contains(o.Option.Name)).SelectMany(o => o.Tokens.Select(t => t.Value))
                .Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
            foreach (var value in given)
            {
                string full;
                try { full = Path.GetFullPath(value); } catch (ArgumentException) { continue; }
                int at = e.Message.IndexOf(full, StringComparison.Ordinal);
                if (at < 0) continue;
                // The path as the message names it: from the user's folder to the closing quote.
                int end = e.Message.IndexOf('\'', at);
                return end > at ? e.Message[at..end] : full;
            }
            return null;
        }

        public static RootCommand Build(CliConsole console) => new("LatentLab: train, measure and see the latent spaces of autoencoders")
        {
            TrainCommand.Create(console),
            EvaluateCommand.Create(console),
            VisualizeCommand.Create(console),
            CompareCommand.Create(console),
            ExportCommand.Create(console),
            SweepCommand.Create(console),
            BenchmarkCommand.Create(console),
            DataCommand.Create(console),
            ModelsCommand.Create(console),
        };

        /// <summary>Parses and runs a command line. User errors become one line on stderr and exit code 2.</summary>
        public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancel)
        {
            var root = Build(console);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                console.WriteError(parse.Errors[0].Message);
                return ExitCodes.BadInput;
            }
            try
            {
                // Cancellation is ours (Program.cs): the library's own handler would force an exit mid-checkpoint.
                var invocation = new InvocationConfiguration
                {
                    Output = console.Out.Profile.Out.Writer,
                    Error = console.Error,
                    ProcessTerminationTimeout = null,
                    EnableDefaultExceptionHandler = false,
                };
                return await parse.InvokeAsync(invocation, cancel);
            }
            catch (LatentLabException e)
            {
                console.WriteError(e.Message);
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && UserPath(parse, e) is { } path)
            {
                // An I/O failure on a path the user gave (a folder vanished, a disk filled, permissions changed while
                // running) is theirs to fix: one line. Any other exception is a bug and keeps its stack trace.
                console.WriteError($"{path}: {Commands.PathChecks.Reason(e)}");
                return ExitCodes.BadInput;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                console.WriteError("interrupted; every file written is complete; run the same command again to continue");
                return ExitCodes.Interrupted;
            }
        }
    }
}
