using LatentLab.Runtime;

namespace LatentLab.Tests.Runtime;

/// <summary>A command's awaits come back to the thread that runs it (<see cref="SingleThreadContext"/>).</summary>
public class SingleThreadContextTests
{
    [Fact]
    public void ContinuationsOfAwaitsThatCompleteElsewhereRunOnTheCallingThread()
    {
        int caller = Environment.CurrentManagedThreadId;
        var before = SynchronizationContext.Current;
        var seen = new List<int>();
        var elsewhere = new List<int>();
        int result = SingleThreadContext.Run(async () =>
        {
            seen.Add(Environment.CurrentManagedThreadId);
            await Task.Delay(20);                                                      // completes on a timer thread
            seen.Add(Environment.CurrentManagedThreadId);
            elsewhere.Add(await Task.Run(() => Environment.CurrentManagedThreadId));   // completes on a pool thread
            seen.Add(Environment.CurrentManagedThreadId);
            await Task.Yield();
            seen.Add(Environment.CurrentManagedThreadId);
            return 42;
        });
        Assert.Equal(42, result);
        Assert.Equal([caller, caller, caller, caller], seen);
        Assert.NotEqual(caller, elsewhere[0]);   // precondition: the awaited work really ran on another thread
        Assert.Same(before, SynchronizationContext.Current);   // the caller's context is given back
    }

    [Fact]
    public void AnExceptionAfterAnAwaitReachesTheCaller()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SingleThreadContext.Run<int>(async () =>
        {
            await Task.Delay(5);
            throw new InvalidOperationException("from the command");
        }));
        Assert.Equal("from the command", error.Message);
        Assert.Throws<ArgumentException>(() => SingleThreadContext.Run<int>(() => throw new ArgumentException("before any await")));
    }
}
