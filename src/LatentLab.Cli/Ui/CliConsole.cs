using Spectre.Console;

namespace LatentLab.Cli.Ui;

/// <summary>Where commands write: rich output (tables, progress) to <see cref="Out"/>, one-line errors to <see cref="Error"/>.</summary>
/// <remarks>Tests pass a console that records both, so commands are tested through a real command line.</remarks>
public sealed record CliConsole(IAnsiConsole Out, TextWriter Error)
{
    public static CliConsole System()
    {
        var console = AnsiConsole.Console;
        // Redirected output has no width; Spectre would assume 80 columns and wrap each epoch's line in two.
        if (Console.IsOutputRedirected) console.Profile.Width = 200;
        return new(console, Console.Error);
    }

    public void WriteError(string message) => Error.WriteLine($"latent: {message.ReplaceLineEndings(" ")}");
}
