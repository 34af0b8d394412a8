using System.CommandLine;
using LatentLab.Data;

namespace LatentLab.Cli.Commands;

/// <summary>Options shared by several commands; each command adds the ones it takes.</summary>
public static class CommonOptions
{
    public static Option<string> Dataset() => new("--dataset")
    {
        Description = $"Dataset name: {string.Join(", ", DatasetCatalog.Names)}",
        DefaultValueFactory = _ => DatasetCatalog.Mnist.Name,
    };

    public static Option<string> Out() => new("--out")
    {
        Description = "Results root; runs live in OUT/<dataset>/<model>/",
        DefaultValueFactory = _ => "results",
    };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = $"Data folder (default: ${DataDirectory.EnvironmentVariable}, else data/); a folder holding your own four IDX files also works",
    };

    public static Option<int?> Threads() => new("--threads")
    {
        Description = "libtorch threads (default: one per core)",
    };
}
