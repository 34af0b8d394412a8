using LatentLab.Data;
using Spectre.Console;

namespace LatentLab.Cli.Ui;

/// <summary>Locates a dataset, fetching it (with a progress display) when it is not there yet.</summary>
public static class FetchDisplay
{
    public static async Task<DatasetFiles> EnsureAsync(IAnsiConsole console, DatasetSpec spec, string dataRoot, bool force, CancellationToken cancel)
    {
        var fetcher = new DatasetFetcher();
        if (!force && DatasetFiles.Locate(spec, dataRoot) is { } present) return present;

        console.MarkupLineInterpolated($"fetching {spec.Name} into {Path.Combine(dataRoot, spec.Name)}");
        await TrainingDisplay.CreateProgress(console).StartAsync(async ctx =>
        {
            var task = ctx.AddTask(spec.Name, maxValue: 1);
            var progress = new SynchronousProgress<FetchProgress>(p =>
            {
                if (p.Note is not null)
                {
                    console.MarkupLineInterpolated($"[grey]{p.Note}[/]");
                    return;
                }
                task.Description = p.Stage;
                if (p.Total is > 0) { task.MaxValue = p.Total.Value; task.Value = p.Done; }
                else task.IsIndeterminate = true;
            });
            await fetcher.FetchAsync(spec, dataRoot, progress, cancel);
            task.IsIndeterminate = false;
            task.Description = $"{spec.Name}: verified (SHA-256)";
            task.Value = task.MaxValue;
        });
        return DatasetFiles.Locate(spec, dataRoot)
               ?? throw new LatentLabException($"{spec.Name}: fetched, but the files are not in {Path.Combine(dataRoot, spec.Name)}");
    }
}

/// <summary>An <see cref="IProgress{T}"/> that runs its handler on the reporting thread, in order
/// (the BCL's Progress&lt;T&gt; posts to the thread pool, and reports can then arrive out of order).</summary>
public sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}

/// <summary>Renders dSprites with a progress bar: on <c>latent data make dsprites</c>, and on first use of <c>--dataset dsprites</c>.</summary>
public static class DspritesDisplay
{
    public static void Make(IAnsiConsole console, string dataRoot, CancellationToken cancel)
    {
        console.MarkupLineInterpolated($"rendering {DspritesFiles.Name} into {DspritesFiles.Folder(dataRoot)} ({Dsprites.Count:N0} images, 377 MB)");
        TrainingDisplay.CreateProgress(console).Start(ctx =>
        {
            var task = ctx.AddTask(DspritesFiles.Name, maxValue: Dsprites.Count);
            DspritesFiles.Make(dataRoot, new SynchronousProgress<int>(done => task.Value = Math.Max(task.Value, done)), cancel);
            task.Value = task.MaxValue;
        });
    }
}
