using System.Globalization;
using LatentLab.Training;
using Spectre.Console;

namespace LatentLab.Cli.Ui;

/// <summary>Shows a training run: one live progress bar over all epochs (epoch, batch, loss, speed, time left)
/// and a line per finished epoch, which is all that appears when output is not a terminal.</summary>
/// <remarks>Reports arrive after every batch; the bar is updated at most ten times a second, because on a 2-core
/// machine every update (a lock, a redraw) is taken from libtorch's own threads.</remarks>
public sealed class TrainingDisplay(IAnsiConsole console, ProgressTask task, int batchesPerEpoch, string model) : IProgress<TrainingProgress>
{
    static readonly TimeSpan UpdateInterval = TimeSpan.FromMilliseconds(100);
    readonly System.Diagnostics.Stopwatch _sinceUpdate = System.Diagnostics.Stopwatch.StartNew();

    public static Progress CreateProgress(IAnsiConsole console) => console.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                 new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn());

    public void Report(TrainingProgress p)
    {
        if (p.Message is not null)
        {
            console.MarkupLineInterpolated($"[grey]{model}: {p.Message}[/]");
            if (p.Epoch > 0) task.Value = (double)p.Epoch * batchesPerEpoch;
            return;
        }
        if (p.Completed is null && _sinceUpdate.Elapsed < UpdateInterval) return;
        _sinceUpdate.Restart();
        task.Value = (double)(p.Epoch - 1) * batchesPerEpoch + p.Batch;
        task.Description = string.Create(CultureInfo.InvariantCulture,
            $"{model} epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} loss {p.RunningLoss:F2} {p.ImagesPerSecond:N0} img/s");
        if (p.Completed is { } e)
            console.MarkupLineInterpolated(
                $"{model} epoch {e.Epoch,3}/{p.Epochs}  train {e.TrainLoss,8:F3}  test {e.TestLoss,8:F3} (recon {e.TestRecon:F3}, kl {e.TestKl:F3})  {e.Seconds:F1} s");
    }
}
