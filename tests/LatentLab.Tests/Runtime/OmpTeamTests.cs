using System.Collections.Concurrent;
using LatentLab.Runtime;
using static TorchSharp.torch;

namespace LatentLab.Tests.Runtime;

/// <remarks>Alone in the process: set_num_threads also sets libtorch's default for threads that have not run libtorch
/// yet, and a test starting on such a thread while the count is 1 or 3 would compute with it (FusedMlpStepTests' free
/// runs did, in CI, 2026-12-06).</remarks>
[Collection(nameof(AloneInTheProcess))]
public class OmpTeamTests
{
    /// <summary>The route the training step's passes and Adam take on Linux: libtorch's own OpenMP threads. If the
    /// libgomp beside libtorch_cpu is not found (a TorchSharp update that renames or drops it), the loops still run, on
    /// .NET threads, but slower on the Intel Xeon; this says so instead of letting it pass unseen.</summary>
    [LinuxFact("libgomp is libtorch's OpenMP on Linux only")]
    public void OnLinuxLoopsRunOnLibtorchsOpenMpThreads()
    {
        Assert.True(OmpTeam.Available, "the libgomp mapped beside libtorch_cpu.so was not found in /proc/self/maps");
    }

    [Fact]
    public void RunsEachPartOnceAcrossTheThreadCount()
    {
        int previous = get_num_threads();
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                set_num_threads(threads);
                var seen = new ConcurrentBag<(int Part, int Parts, int Thread)>();
                OmpTeam.Run((part, parts) => seen.Add((part, parts, Environment.CurrentManagedThreadId)));
                Assert.Equal(Enumerable.Range(0, threads), seen.Select(s => s.Part).Order());
                Assert.All(seen, s => Assert.Equal(threads, s.Parts));
                // Part 0 is the caller's (OpenMP's master thread is the one that opens the region).
                Assert.Equal(Environment.CurrentManagedThreadId, seen.Single(s => s.Part == 0).Thread);
                if (threads > 1 && OmpTeam.Available) Assert.Equal(threads, seen.Select(s => s.Thread).Distinct().Count());

                seen.Clear();
                OmpTeam.Run((part, parts) => seen.Add((part, parts, 0)), maxParts: 1);
                Assert.Equal([(0, 1, 0)], seen);
            }
        }
        finally
        {
            set_num_threads(previous);
        }
    }

    [Fact]
    public void APartsExceptionReachesTheCaller()
    {
        int previous = get_num_threads();
        try
        {
            set_num_threads(2);
            var error = Assert.Throws<InvalidOperationException>(() => OmpTeam.Run((part, _) =>
            {
                if (part == 1) throw new InvalidOperationException("part 1 failed");
            }));
            Assert.Equal("part 1 failed", error.Message);
        }
        finally
        {
            set_num_threads(previous);
        }
    }
}
