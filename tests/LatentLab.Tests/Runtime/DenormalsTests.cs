using LatentLab.Runtime;
using static TorchSharp.torch;

namespace LatentLab.Tests.Runtime;

/// <summary>The flush-to-zero modes (<see cref="Denormals"/>, <see cref="TorchRuntime.FlushDenormals"/>), each test on a
/// thread of its own: the modes are per thread, and the test host's threads must keep IEEE arithmetic.</summary>
[Collection(nameof(AloneInTheProcess))]
public class DenormalsTests
{
    static T OnNewThread<T>(Func<T> work)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { error = e; }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new AggregateException(error);
        return result;
    }

    /// <summary>2^-126 / 4 is subnormal: kept as IEEE arithmetic gives it, 0 once the modes are on, in C# and in a
    /// libtorch operation alike; off again gives it back.</summary>
    [Fact]
    public void SubnormalResultsBecomeZeroOnlyWithTheModesOn()
    {
        Assert.True(Denormals.Supported, "precondition: x86-64 Linux, where the project runs");
        var (before, on, tensorOn, off) = OnNewThread(() =>
        {
            var values = new[] { 1.17549435e-38f, 0.25f };   // 2^-126 and 1/4, read from memory: not folded by the compiler
            float Product() => values[0] * values[1];
            float before = Product();
            Assert.True(Denormals.SetOnThisThread(true));
            Assert.True(Denormals.OnThisThread);
            float on = Product();
            using var t = tensor(values[0]);
            float tensorOn = (t * values[1]).item<float>();
            Assert.True(Denormals.SetOnThisThread(false));
            Assert.False(Denormals.OnThisThread);
            return (before, on, tensorOn, Product());
        });
        Assert.Equal(2.938736e-39f, before, 1e-45f);
        Assert.Equal(0f, on);
        Assert.Equal(0f, tensorOn);
        Assert.Equal(before, off);
    }

    /// <summary>With <see cref="TorchRuntime.FlushDenormals"/>, configuring the threads puts the modes on the calling
    /// thread and on every thread of its OpenMP team; without it, they stay off.</summary>
    [Fact]
    public void ConfiguringTheThreadsAppliesTheModesToTheTeam()
    {
        int threads = get_num_threads();
        try
        {
            var (caller, team) = OnNewThread(() =>
            {
                TorchRuntime.FlushDenormals = true;
                TorchRuntime.ConfigureThreads(2);
                var flushed = new bool[2];
                OmpTeam.Run((part, parts) => flushed[part] = Denormals.OnThisThread);
                return (Denormals.OnThisThread, flushed);
            });
            Assert.True(caller);
            Assert.All(team, Assert.True);
            bool untouched = OnNewThread(() =>
            {
                TorchRuntime.FlushDenormals = false;
                TorchRuntime.ConfigureThreads(2);
                return Denormals.OnThisThread;
            });
            Assert.False(untouched);
        }
        finally
        {
            TorchRuntime.FlushDenormals = false;
            TorchRuntime.ConfigureThreads(threads);
        }
    }
}
