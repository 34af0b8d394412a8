using LatentLab.Data;
using Spectre.Console;

namespace LatentLab.Cli.Ui;

/// <summary>Reads a folder of images with a progress bar; warnings (skipped files) go to stderr, one line each.</summary>
public static class ImageFolderDisplay
{
    public static async Task<Dataset> LoadAsync(CliConsole console, string folder, ImageFolderOptions options, string dataRoot, CancellationToken cancel)
    {
        Dataset? data = null;
        var warnings = new List<string>();
        await TrainingDisplay.CreateProgress(console.Out).StartAsync(async ctx =>
        {
            var task = ctx.AddTask($"reading {Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)))}", maxValue: 1);
            task.IsIndeterminate = true;
            var progress = new SynchronousProgress<FetchProgress>(p =>
            {
                if (p.Note is not null) { warnings.Add(p.Note); return; }
                task.Description = p.Stage;
                if (p.Total is > 0) { task.IsIndeterminate = false; task.MaxValue = p.Total.Value; task.Value = p.Done; }
            });
            data = await Runtime.TorchRuntime.Run(() => ImageFolder.Load(folder, options, dataRoot, progress, cancel));
            task.IsIndeterminate = false;
            task.Value = task.MaxValue;
        });
        foreach (var warning in warnings) console.WriteError(warning);
        console.Out.MarkupLineInterpolated(
            $"{data!.Name}: {data.TrainCount + data.TestCount:N0} images {data.Shape} ({(data.HasLabels ? $"{data.ClassNames.Count} classes" : "no labels")}), {data.TrainCount:N0} to train on, {data.TestCount:N0} to test");
        return data;
    }
}
