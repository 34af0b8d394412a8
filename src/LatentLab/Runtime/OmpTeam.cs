using System.Runtime.InteropServices;
using TorchSharp;

namespace LatentLab.Runtime;

/// <summary>Runs C# loops on libtorch's own OpenMP threads, the ones its matrix products run on.</summary>
/// <remarks>
/// Why not <see cref="Parallel.For(int, int, Action{int})"/>: after each parallel region libtorch's OpenMP (GNU libgomp)
/// workers keep spinning for the next one, up to 300,000 iterations of a <c>pause</c> instruction, which is milliseconds
/// on the Intel Xeon here (140 cycles a pause) — longer than the gap between two products of a training step. A .NET
/// thread woken beside them on two cores shares a core with a spinner, and the passes between products (Adam, the fused
/// step's elementwise work) ran no faster on two .NET threads than on one (docs/cpus.md). Run through
/// <c>GOMP_parallel</c> of the same libgomp instead, the loop lands on the threads that are already spinning for work,
/// and the products after it find them the same way.
///
/// Where libtorch is not built with GNU OpenMP (this looks for the libgomp mapped beside libtorch_cpu in the process, as
/// the Linux TorchSharp-cpu package ships it), or runs one thread, the loop runs on <see cref="Parallel.For(int, int,
/// Action{int})"/> or on the calling thread: the same work, split the same way, so the results do not depend on the route.
/// </remarks>
public static unsafe class OmpTeam
{
    static readonly delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void> s_parallel;
    static readonly delegate* unmanaged<int> s_threadNumber, s_teamSize;

    static OmpTeam()
    {
        if (!OperatingSystem.IsLinux()) return;
        torch.get_num_threads();   // libtorch (and its libgomp) loaded before the process's mappings are read
        if (LibgompBesideLibtorch() is not { } path || !NativeLibrary.TryLoad(path, out var library)) return;
        if (NativeLibrary.TryGetExport(library, "GOMP_parallel", out var parallel)
            && NativeLibrary.TryGetExport(library, "omp_get_thread_num", out var number)
            && NativeLibrary.TryGetExport(library, "omp_get_num_threads", out var size))
        {
            s_parallel = (delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void>)parallel;
            s_threadNumber = (delegate* unmanaged<int>)number;
            s_teamSize = (delegate* unmanaged<int>)size;
        }
    }

    /// <summary>Whether loops run on libtorch's OpenMP threads in this process.</summary>
    public static bool Available => s_parallel != null;

    /// <summary>The libgomp that libtorch_cpu was loaded with: mapped from the same directory.</summary>
    static string? LibgompBesideLibtorch()
    {
        try
        {
            var paths = File.ReadLines("/proc/self/maps")
                .Select(line => line.IndexOf('/') is var i and >= 0 ? line[i..] : null)
                .OfType<string>().Distinct().ToList();
            var torchDirectory = paths.Where(p => Path.GetFileName(p) == "libtorch_cpu.so").Select(Path.GetDirectoryName).FirstOrDefault();
            return paths.FirstOrDefault(p => Path.GetDirectoryName(p) == torchDirectory && Path.GetFileName(p).StartsWith("libgomp", StringComparison.Ordinal));
        }
        catch (IOException) { return null; }
    }

    /// <summary>Runs <paramref name="body"/>(part, parts) for part = 0 .. parts - 1, one part per thread of libtorch's
    /// intra-op count (<c>torch.get_num_threads()</c>), and returns when all have. parts is that count
    /// (at most <paramref name="maxParts"/>), the same on every route; a part's exception is rethrown here.</summary>
    public static void Run(Action<int, int> body, int maxParts = int.MaxValue)
    {
        int parts = Math.Max(1, Math.Min(torch.get_num_threads(), maxParts));
        if (parts == 1)
        {
            body(0, 1);
            return;
        }
        if (!Available)
        {
            Parallel.For(0, parts, part => body(part, parts));
            return;
        }
        var work = new Work(body, parts);
        var handle = GCHandle.Alloc(work);
        try
        {
            s_parallel(&RunPart, GCHandle.ToIntPtr(handle), (uint)parts, 0);
        }
        finally
        {
            handle.Free();
        }
        if (work.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
    }

    sealed class Work(Action<int, int> body, int parts)
    {
        public readonly Action<int, int> Body = body;
        public readonly int Parts = parts;
        public Exception? Error;
    }

    [UnmanagedCallersOnly]
    static void RunPart(nint state)
    {
        var work = (Work)GCHandle.FromIntPtr(state).Target!;
        int team = s_teamSize(), thread = s_threadNumber();
        // Each thread takes the parts congruent to its number: one each when the team has the size asked for, and every
        // part still runs if OpenMP gave fewer threads.
        for (int part = thread; part < work.Parts; part += team)
        {
            try
            {
                work.Body(part, work.Parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref work.Error, e, null);
            }
        }
    }
}
