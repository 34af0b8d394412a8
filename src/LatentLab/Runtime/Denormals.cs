using System.Runtime.InteropServices;

namespace LatentLab.Runtime;

/// <summary>The x86 flush-to-zero and denormals-are-zero modes (the MXCSR's FTZ and DAZ bits), per thread: what
/// PyTorch's <c>torch.set_flush_denormal(True)</c> sets, which TorchSharp does not expose. Set through glibc's
/// <c>fegetenv</c>/<c>fesetenv</c>, whose x86-64 environment holds the MXCSR.</summary>
public static unsafe partial class Denormals
{
    const uint FlushToZeroBit = 1u << 15, DenormalsAreZeroBit = 1u << 6;
    // glibc's x86-64 fenv_t: the x87 environment (28 bytes), then the MXCSR.
    const int FenvBytes = 32, MxcsrOffset = 28;

    [LibraryImport("libm.so.6", EntryPoint = "fegetenv")]
    private static partial int FeGetEnv(byte* env);

    [LibraryImport("libm.so.6", EntryPoint = "fesetenv")]
    private static partial int FeSetEnv(byte* env);

    /// <summary>Whether the modes can be set here (x86-64 Linux with glibc).</summary>
    public static bool Supported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>This thread's MXCSR, or null where <see cref="Supported"/> is false.</summary>
    public static uint? Mxcsr()
    {
        if (!Supported) return null;
        byte* env = stackalloc byte[FenvBytes];
        if (FeGetEnv(env) != 0) return null;
        return *(uint*)(env + MxcsrOffset);
    }

    /// <summary>Turns both modes on (<paramref name="flush"/>) or off on the calling thread; false where it cannot.</summary>
    public static bool SetOnThisThread(bool flush)
    {
        if (!Supported) return false;
        byte* env = stackalloc byte[FenvBytes];
        if (FeGetEnv(env) != 0) return false;
        uint* mxcsr = (uint*)(env + MxcsrOffset);
        *mxcsr = flush ? *mxcsr | FlushToZeroBit | DenormalsAreZeroBit : *mxcsr & ~(FlushToZeroBit | DenormalsAreZeroBit);
        return FeSetEnv(env) == 0;
    }

    /// <summary>Whether both modes are on for the calling thread.</summary>
    public static bool OnThisThread => Mxcsr() is { } m && (m & (FlushToZeroBit | DenormalsAreZeroBit)) == (FlushToZeroBit | DenormalsAreZeroBit);
}
