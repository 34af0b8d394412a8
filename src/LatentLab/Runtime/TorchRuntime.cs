using System.Reflection;
using System.Text.Json.Serialization;
using TorchSharp;

namespace LatentLab.Runtime;

/// <summary>Process-wide libtorch settings and the versions a run records.</summary>
public static class TorchRuntime
{
    /// <summary>Sets libtorch's intra-op thread count once; null means one per core.</summary>
    public static int ConfigureThreads(int? threads)
    {
        int n = threads ?? Environment.ProcessorCount;
        if (n < 1 || n > 1024) throw new LatentLabException($"--threads must be between 1 and 1024, got {n}");
        torch.set_num_threads(n);
        return torch.get_num_threads();
    }

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
