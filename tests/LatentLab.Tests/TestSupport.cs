using LatentLab.Data;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // libtorch's global RNG seeds model weights

namespace LatentLab.Tests;

/// <summary>A temporary folder deleted at the end of a test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("latentlab-test-").FullName;
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The committed slice of real MNIST: 600 training and 100 test images (Fixtures/make_mnist_slice.py).</summary>
public static class Fixtures
{
    public static string Folder(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static string MnistSliceFolder => Folder("mnist-600");

    public static Dataset MnistSlice() =>
        Dataset.Load(DatasetFiles.Locate(DatasetCatalog.Mnist, MnistSliceFolder)
                     ?? throw new InvalidOperationException("fixture missing: " + MnistSliceFolder));
}

/// <summary>Runs a real `latent` command line in-process, recording what it prints on stdout and stderr.</summary>
public static class LatentCommand
{
    public static Task<(int Exit, string Out, string Error)> RunAsync(params string[] args) => RunAsync(args, CancellationToken.None);

    /// <summary>The same, stopped as Ctrl-C stops it when <paramref name="cancel"/> is cancelled.</summary>
    public static async Task<(int Exit, string Out, string Error)> RunAsync(string[] args, CancellationToken cancel)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(output),
            Ansi = Spectre.Console.AnsiSupport.No,
            Interactive = Spectre.Console.InteractionSupport.No,
        });
        // A command sets libtorch's thread count for its process (a sweep point with `threads: 1`, --threads); in-process it
        // would outlive the command and change later tests' float sums, so the count is put back.
        int threads = TorchSharp.torch.get_num_threads();
        try
        {
            int exit = await LatentLab.Cli.LatentCli.RunAsync(args, new LatentLab.Cli.Ui.CliConsole(console, error), cancel);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
    }

    /// <summary>The same, for fixtures and helpers that cannot await.</summary>
    public static (int Exit, string Out, string Error) Run(params string[] args) => RunAsync(args).GetAwaiter().GetResult();
}
