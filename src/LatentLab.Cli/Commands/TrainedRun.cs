using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.Models;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary>What evaluate and visualize share: the run folder of a trained model, its dataset and its weights.</summary>
public sealed class TrainedRun : IDisposable
{
    public RunFolder Folder { get; }
    public RunRecord Record { get; }
    public Dataset Data { get; }
    public Autoencoder Model { get; }

    TrainedRun(RunFolder folder, RunRecord record, Dataset data, Autoencoder model) => (Folder, Record, Data, Model) = (folder, record, data, model);

    /// <summary>Finds OUT/&lt;dataset&gt;/&lt;model&gt;/ and reads its config.json (one clear error when there is none).</summary>
    public static (string Dataset, RunFolder Folder, RunRecord Record) Locate(string dataset, string outRoot, string model)
    {
        var folder = RunFolder.For(PathChecks.FolderNotFile(outRoot, "--out"), new DatasetChoice(dataset, new ImageFolderOptions()).Name, model);
        var record = folder.ReadRecord();
        // evaluate and visualize write into the run folder: a read-only one fails now, not after the work.
        PathChecks.WritableFolder(folder.Root, "--out");
        return (dataset, folder, record);
    }

    /// <summary>Sets the thread count, fetches the dataset when missing, loads it and the model's weights.</summary>
    public static async Task<TrainedRun> OpenAsync(CliConsole console, (string Dataset, RunFolder Folder, RunRecord Record) located,
        string? dataDir, int? threads, CancellationToken cancel)
    {
        Runtime.TorchRuntime.ConfigureThreads(threads);
        var data = await DatasetChoice.LoadForRunAsync(console, located.Dataset, located.Record, dataDir, cancel);
        try
        {
            return new TrainedRun(located.Folder, located.Record, data, located.Folder.LoadModel());
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Data.Dispose();
    }
}
