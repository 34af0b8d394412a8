using Spectre.Console;

namespace LatentLab.Cli.Ui;

/// <summary>A spinner with the current stage of a long step (evaluating, drawing) while it runs on this thread, with
/// libtorch's configured thread count (<see cref="Runtime.TorchRuntime.Run{T}"/> says why).</summary>
public static class StatusDisplay
{
    public static T Run<T>(IAnsiConsole console, string label, Func<IProgress<string>, T> work)
    {
        T result = default!;
        Runtime.TorchRuntime.UseConfiguredThreads();
        console.Status().Start(label, ctx => result = work(new SynchronousProgress<string>(stage => ctx.Status($"{label}: {stage}"))));
        return result;
    }
}
