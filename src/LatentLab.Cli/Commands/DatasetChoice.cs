using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary>What <c>--dataset</c> names: a dataset of the catalog (mnist, fashion-mnist), or a folder of images, with the
/// options that say how a folder is read. Shared by train and compare; evaluate and visualize read a folder again with
/// the options recorded in the run's config.json.</summary>
public sealed record DatasetChoice(string Value, ImageFolderOptions FolderOptions)
{
    public static readonly Option<int?> ChannelsOption = new("--channels") { Description = "Image folders: 1 (grey) or 3 (RGB); default: grey when every image is grey" };
    public static readonly Option<string?> ImageSizeOption = new("--image-size") { Description = "Image folders: resize every image to N x N or WxH; default: the most common size in the folder" };
    public static readonly Option<double> TestFractionOption = new("--test-fraction") { Description = "Image folders: share of each class held out as the test split (seeded, stratified)", DefaultValueFactory = _ => 0.1 };

    public static IEnumerable<Option> FolderFlags() => [ChannelsOption, ImageSizeOption, TestFractionOption];

    public bool IsFolder => ImageFolder.IsFolder(Value);

    /// <summary>The name of the results folder: OUT/&lt;name&gt;/.</summary>
    public string Name => IsFolder ? ImageFolder.NameOf(Value)
        : Value == DspritesFiles.Name ? DspritesFiles.Name
        : DatasetCatalog.All.FirstOrDefault(d => d.Name == Value)?.Name
          ?? throw new LatentLabException($"unknown dataset '{Value}': neither {string.Join(" nor ", [.. DatasetCatalog.Names, DspritesFiles.Name])} nor a folder of images");

    public static DatasetChoice From(ParseResult parse, Option<string> datasetOption)
    {
        var size = ImageFolderOptions.ParseSize(parse.GetValue(ImageSizeOption));
        var options = new ImageFolderOptions(parse.GetValue(ChannelsOption), size?.Width, size?.Height, parse.GetValue(TestFractionOption)).Validate();
        var choice = new DatasetChoice(parse.GetValue(datasetOption)!, options);
        _ = choice.Name;   // an unknown dataset name fails here, before any work
        return choice;
    }

    /// <summary>The same folder, read as the run recorded it (size, channels, split), for evaluate and visualize.</summary>
    public static DatasetChoice Recorded(string dataset, ImageFolderSource source) =>
        new(dataset, new ImageFolderOptions(source.Channels, source.Width, source.Height, source.TestFraction, source.SplitSeed));

    /// <summary>Loads the dataset: a folder through its cache, a catalog dataset fetched first when missing.</summary>
    public async Task<Dataset> LoadAsync(CliConsole console, string? dataDir, CancellationToken cancel)
    {
        string dataRoot = PathChecks.FolderNotFile(DataDirectory.Resolve(dataDir), "--data-dir");
        if (IsFolder) return await ImageFolderDisplay.LoadAsync(console, Value, FolderOptions, dataRoot, cancel);
        if (Value == DspritesFiles.Name)
        {
            // Synthetic: rendered on first use, as `latent data make dsprites` would.
            if (!DspritesFiles.Exist(dataRoot))
            {
                PathChecks.WritableFolder(dataRoot, "--data-dir");
                DspritesDisplay.Make(console.Out, dataRoot, cancel);
            }
            return DspritesLoader.Load(dataRoot);
        }
        var spec = DatasetCatalog.Get(Value);
        // Fetching writes into the data folder: prove it writable first, rather than after a download.
        if (DatasetFiles.Locate(spec, dataRoot) is null) PathChecks.WritableFolder(dataRoot, "--data-dir");
        var files = await FetchDisplay.EnsureAsync(console.Out, spec, dataRoot, force: false, cancel);
        return Dataset.Load(files);
    }

    /// <summary>Loads the data a trained run used, and checks that a folder still gives the split it was trained on.</summary>
    public static async Task<Dataset> LoadForRunAsync(CliConsole console, string dataset, RunRecord record, string? dataDir, CancellationToken cancel)
    {
        if (record.Dataset.Folder is not { } source)
        {
            if (ImageFolder.IsFolder(dataset)) throw new LatentLabException($"this run was trained on {record.Dataset.Name}, not on a folder of images");
            return await new DatasetChoice(dataset, new ImageFolderOptions()).LoadAsync(console, dataDir, cancel);
        }
        string folder = ImageFolder.IsFolder(dataset) ? dataset : source.Path;
        var data = await Recorded(folder, source).LoadAsync(console, dataDir, cancel);
        if (data.Folder!.SplitSha256 != source.SplitSha256)
        {
            data.Dispose();
            throw new LatentLabException($"{folder}: the images differ from those the model was trained on (split SHA-256 {data.Folder.SplitSha256[..12]}..., recorded {source.SplitSha256[..12]}...); train it again");
        }
        return data;
    }
}
