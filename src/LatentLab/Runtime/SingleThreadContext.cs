using System.Collections.Concurrent;

namespace LatentLab.Runtime;

/// <summary>Runs an asynchronous entry point (a <c>latent</c> command) on the calling thread: every continuation of an
/// <c>await</c> inside it that does not opt out comes back to this thread, so all of a command's libtorch work runs on
/// one thread however its awaits complete.</summary>
/// <remarks>Why: GNU OpenMP, libtorch's thread pool here, keeps a team of workers for every thread that has run
/// libtorch's parallel work, and once those threads outnumber the cores it lets its workers spin only 100 times
/// between products before they sleep; a second such thread made vae_32d's float32 epoch 2.5-2.7 s against 1.8 on the
/// Intel Xeon (bench/README.md, 2026-12-06). Without a context, the code after an <c>await</c> that completed elsewhere
/// (a file read, a display's task) runs on a thread-pool thread, and the next tensor operation makes it such a thread.
/// What this does not cover: work a library sends to other threads on purpose (Task.Run, Parallel.For), which
/// LatentLab does only for work without libtorch (image decoding, t-SNE's gradient).</remarks>
public sealed class SingleThreadContext : SynchronizationContext
{
    readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    readonly int _thread = Environment.CurrentManagedThreadId;

    SingleThreadContext() { }

    public override void Post(SendOrPostCallback d, object? state)
    {
        // After the entry point has finished, a stray continuation runs where it was posted from.
        if (!_queue.TryAdd((d, state))) ThreadPool.QueueUserWorkItem(_ => d(state));
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Environment.CurrentManagedThreadId == _thread) d(state);
        else throw new NotSupportedException("a synchronous call into the command's thread from another thread would wait for itself");
    }

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Calls <paramref name="entry"/> on this thread and runs every continuation posted back to it here until
    /// the task it returned completes; returns its result (or throws its exception).</summary>
    public static T Run<T>(Func<Task<T>> entry)
    {
        var previous = Current;
        var context = new SingleThreadContext();
        SetSynchronizationContext(context);
        try
        {
            Task<T> task;
            try
            {
                task = entry();
            }
            catch (Exception e)
            {
                task = Task.FromException<T>(e);
            }
            task.ContinueWith(_ => context._queue.CompleteAdding(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            foreach (var (callback, state) in context._queue.GetConsumingEnumerable()) callback(state);
            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}
