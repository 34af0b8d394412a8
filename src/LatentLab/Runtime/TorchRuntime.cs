using System.Reflection;
using System.Text.Json.Serialization;
using TorchSharp;

namespace LatentLab.Runtime;

/// <summary>Process-wide libtorch settings and the versions a run records.</summary>
public static class TorchRuntime
{
    static int s_threads;

    /// <summary>Sets libtorch's intra-op thread count; null means one per core. Work that then runs on other threads
    /// goes through <see cref="Run{T}"/>, which brings their count in line.</summary>
    public static int ConfigureThreads(int? threads)
    {
        int n = threads ?? Environment.ProcessorCount;
        if (n < 1 || n > 1024) throw new LatentLabException($"--threads must be between 1 and 1024, got {n}");
        torch.set_num_threads(n);
        s_threads = n;
        ApplyDenormalMode();
        return torch.get_num_threads();
    }

    /// <summary>Runs <paramref name="work"/> on the calling thread with the thread count of the last
    /// <see cref="ConfigureThreads"/>, as a task for callers that await it. libtorch's count is OpenMP's, which is per
    /// thread: a thread that ran libtorch under an earlier count (an earlier command in the same process: a test host, a
    /// program using the library) keeps that count, and its reductions split differently, so the same command's numbers
    /// would move in the last bits.</summary>
    /// <remarks>Not on another thread (it once ran on a thread-pool thread, to keep a display's refresh free; Spectre's
    /// displays refresh from threads of their own): GNU OpenMP counts every thread that has run libtorch's parallel work,
    /// with its workers, and once they outnumber the cores it lets its workers spin only 100 times between products
    /// before they sleep. A second such thread made vae_32d's epoch 2.5-2.7 s against 1.8 on the Intel Xeon
    /// (bench/README.md, 2026-12-06).</remarks>
    public static Task<T> Run<T>(Func<T> work)
    {
        UseConfiguredThreads();
        try
        {
            return Task.FromResult(work());
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    /// <summary>Sets this thread's libtorch thread count to the configured one when it differs.</summary>
    public static void UseConfiguredThreads()
    {
        if (s_threads > 0 && torch.get_num_threads() != s_threads) torch.set_num_threads(s_threads);
        ApplyDenormalMode();
    }

    /// <summary>Whether the threads that run libtorch's work compute with subnormal numbers flushed to zero (the x86
    /// FTZ and DAZ modes, as PyTorch's <c>torch.set_flush_denormal(True)</c>): set by the <c>latent</c> command line and
    /// the bench, which then apply it in <see cref="ConfigureThreads"/> and <see cref="UseConfiguredThreads"/> to the
    /// calling thread and its OpenMP team; off for a program that uses the library without asking (and for the tests).
    /// </summary>
    /// <remarks>Why: an operation that reads or makes a subnormal float costs a microcode assist on Intel CPUs, about a
    /// hundred cycles. Training drives some values through them for good (the importance weights of an IWAE objective
    /// after their softmax, the gradients of units that stopped firing): measured on the Intel Xeon (2026-12-06),
    /// vae_2l on the IWAE objective with k = 5, one thread, slowed from 9 s an epoch (epochs 3-5) to 19-21 s by epoch
    /// 130, and ran 8.5-8.8 s an epoch again from the same checkpoint with the modes on. What it changes: values below
    /// 2^-126 (1.2e-38) are read and written as 0; next to the float32 values a loss, a gradient or a weight carries,
    /// nothing the tests measure. <c>LATENTLAB_KEEP_DENORMALS=1</c> leaves the modes off.</remarks>
    public static bool FlushDenormals { get; set; }

    static void ApplyDenormalMode()
    {
        if (!FlushDenormals || !Denormals.Supported || Denormals.OnThisThread && s_teamFlushed == torch.get_num_threads()) return;
        Denormals.SetOnThisThread(true);
        OmpTeam.Run((_, _) => Denormals.SetOnThisThread(true));
        s_teamFlushed = torch.get_num_threads();
    }

    // The team size the modes were last applied to (a larger team has threads that never ran the setting).
    [ThreadStatic] static int s_teamFlushed;

    /// <summary>What the command line's environment asks for: the modes on unless <c>LATENTLAB_KEEP_DENORMALS=1</c>.</summary>
    public static bool FlushDenormalsByEnvironment() => Environment.GetEnvironmentVariable(KeepDenormalsVariable) != "1";

    /// <summary>The environment variable that, set to 1, keeps subnormal arithmetic in <c>latent</c>.</summary>
    public const string KeepDenormalsVariable = "LATENTLAB_KEEP_DENORMALS";

    /// <summary>Collects garbage here, on the computing thread between two steps, and nowhere else while the steps run.
    /// Why: TorchSharp turns each number in a tensor expression (the 2 of <c>z.pow(2)</c>, the implicit 1 of <c>a + b</c>)
    /// into a Scalar that nothing references once its handle has gone to libtorch, so a collection that starts while the
    /// native call runs can let the finalizer free the c10::Scalar libtorch is reading: "Unknown scalar type" or "Expected
    /// false to be true" from c10/core/Scalar.h (dotnet/TorchSharp#1434 is the open fix). A young-generation collection
    /// forced here at every megabyte made it rare, not impossible: a run of 917 two-level VAE epochs (68 min) still died of
    /// it in its 918th (2026-12-02), in the implicit alpha of an <c>add</c>. So the steps now run inside a no-GC region
    /// (<see cref="GC.TryStartNoGCRegion(long)"/>): no collection of any kind, from any thread, until
    /// <see cref="RegionBytes"/> have been allocated; here, once half of it is spent, the region ends and the next begins
    /// with its blocking collection, at a point where no native call is in flight. Where the runtime refuses a region, it
    /// falls back to the megabyte collections.</summary>
    public static void CollectBetweenSteps()
    {
        long allocated = GC.GetTotalAllocatedBytes(false);
        bool inRegion = System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion;
        if (inRegion)
        {
            if (allocated - s_allocatedAtCollect < RegionBytes / 2) return;
            try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { }   // ended already: outrun, or a collection
        }
        else if (allocated - s_allocatedAtCollect < CollectEvery) return;
        if (!s_regionsRefused)
        {
            try
            {
                if (GC.TryStartNoGCRegion(RegionBytes))
                {
                    s_allocatedAtCollect = GC.GetTotalAllocatedBytes(false);
                    return;
                }
            }
            catch (ArgumentOutOfRangeException) { s_regionsRefused = true; }   // larger than this runtime's limit
            catch (InvalidOperationException) { }                               // a region is open already
        }
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        s_allocatedAtCollect = GC.GetTotalAllocatedBytes(false);
    }

    /// <summary>Bytes a no-GC region lets every thread allocate; a training step allocates tens of kilobytes of wrappers.</summary>
    const long RegionBytes = 64L << 20;
    const long CollectEvery = 1 << 20;
    static long s_allocatedAtCollect;
    static bool s_regionsRefused;

    public static LibraryVersions Versions() => new(
        LatentLab: typeof(TorchRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?",
        TorchSharp: typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?",
        LibTorch: torch.__version__,
        DotNet: Environment.Version.ToString(),
        Os: System.Runtime.InteropServices.RuntimeInformation.OSDescription);
}

/// <summary>Versions of everything that can change a run's numbers.</summary>
public sealed record LibraryVersions(
    [property: JsonPropertyName("latentlab")] string LatentLab,
    [property: JsonPropertyName("torchsharp")] string TorchSharp,
    [property: JsonPropertyName("libtorch")] string LibTorch,
    [property: JsonPropertyName("dotnet")] string DotNet,
    [property: JsonPropertyName("os")] string Os);
