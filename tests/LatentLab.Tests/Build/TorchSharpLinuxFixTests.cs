using LatentLab.Build;

namespace LatentLab.Tests.Build;

public class TorchSharpLinuxFixTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string? PackagedLibrary()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    static bool SystemLacksVersion() =>
        !new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .Where(File.Exists).Any(p => ElfWeakVersionNeed.FileMentionsVersion(p, Version));

    [Fact]
    public void MakeWeakSetsOnlyTheWeakBitOnACopy()
    {
        if (!OperatingSystem.IsLinux() || PackagedLibrary() is not { } original) return; // nothing to patch elsewhere
        using var dir = new TempDir();
        var copy = dir["libLibTorchSharp.so"];
        File.Copy(original, copy);

        Assert.Equal(0, ElfWeakVersionNeed.ReadFlags(copy, Version) & 2);
        Assert.Equal(ElfWeakVersionNeed.Outcome.Patched, ElfWeakVersionNeed.MakeWeak(copy, Version));
        Assert.Equal(2, ElfWeakVersionNeed.ReadFlags(copy, Version) & 2);
        Assert.Equal(ElfWeakVersionNeed.Outcome.AlreadyWeak, ElfWeakVersionNeed.MakeWeak(copy, Version));

        var before = File.ReadAllBytes(original);
        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        Assert.Equal(1, before.Zip(after).Count(pair => pair.First != pair.Second)); // one byte, one bit
        Assert.Equal(ElfWeakVersionNeed.Outcome.VersionNotRequired, ElfWeakVersionNeed.MakeWeak(copy, "GLIBCXX_9.9.9"));
    }

    [Fact]
    public void BuildPatchedTheOutputCopyOnlyWhenTheSystemNeedsIt_AndNeverTheCache()
    {
        if (!OperatingSystem.IsLinux() || PackagedLibrary() is not { } original) return;
        var output = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        int expectedBit = SystemLacksVersion() ? 2 : 0;
        Assert.Equal(expectedBit, ElfWeakVersionNeed.ReadFlags(output, Version) & 2);
        Assert.Equal(0, ElfWeakVersionNeed.ReadFlags(original, Version) & 2);
    }
}
