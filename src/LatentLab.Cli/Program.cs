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
return await LatentCli.RunAsync(args, CliConsole.System(), cancel.Token);

namespace LatentLab.Cli
{
    /// <summary>The <c>latent</c> command line: parsing, dispatch to one command per file, and error policy.</summary>
    public static class LatentCli
    {
        public static RootCommand Build(CliConsole console) => new("LatentLab: train, measure and see the latent spaces of autoencoders")
        {
            TrainCommand.Create(console),
            EvaluateCommand.Create(console),
            VisualizeCommand.Create(console),
            CompareCommand.Create(console),
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
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                console.WriteError("interrupted");
                return ExitCodes.Interrupted;
            }
        }
    }
}
