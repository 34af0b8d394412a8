using LatentLab.Build;

namespace LatentLab.Tests.Build;

public class TorchSharpLinuxFixTests
{
    const string Version = "GLIBCXX_3.4.32";

    /// <summary>The TorchSharp version the build restores: TorchSharp-cpu's in Directory.Packages.props (it brings
    /// TorchSharp of the same version), so an upgrade moves these tests with it instead of turning them into no-ops.</summary>
    static string TorchSharpVersion()
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(RepoRoot(), "Directory.Packages.props"));
        return props.Descendants("PackageVersion").Single(e => (string?)e.Attribute("Include") == "TorchSharp-cpu").Attribute("Version")!.Value;
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props"))) return dir.FullName;
        throw new InvalidOperationException("Directory.Packages.props not found above " + AppContext.BaseDirectory);
    }

    /// <summary>libLibTorchSharp.so as restored into the NuGet cache; the test project depends on it, so a missing file
    /// means the restore went elsewhere than these tests look, and they fail saying where they looked.</summary>
    static string PackagedLibrary()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", TorchSharpVersion(), "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"the restored TorchSharp library is not at {path}");
        return path;
    }

    static bool SystemLacksVersion() =>
        !new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .Where(File.Exists).Any(p => ElfWeakVersionNeed.FileMentionsVersion(p, Version));

    [LinuxFact("the fix patches an ELF library; elsewhere there is nothing to patch")]
    public void MakeWeakSetsOnlyTheWeakBitOnACopy()
    {
        var original = PackagedLibrary();
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

    [LinuxFact("the fix patches an ELF library; elsewhere there is nothing to patch")]
    public void BuildPatchedTheOutputCopyOnlyWhenTheSystemNeedsIt_AndNeverTheCache()
    {
        var original = PackagedLibrary();
        var output = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        int expectedBit = SystemLacksVersion() ? 2 : 0;
        Assert.Equal(expectedBit, ElfWeakVersionNeed.ReadFlags(output, Version) & 2);
        Assert.Equal(0, ElfWeakVersionNeed.ReadFlags(original, Version) & 2);
    }
}
