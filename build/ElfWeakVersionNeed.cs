// Makes one symbol-version requirement of an ELF64 shared library "weak" (VER_FLG_WEAK), so the
// dynamic loader accepts an older library that lacks that version. See docs/torchsharp-on-linux.md.
//
// Why this exists: libLibTorchSharp.so (TorchSharp 0.107) was linked against GCC 13's libstdc++ and
// lists GLIBCXX_3.4.32 in .gnu.version_r, but the only symbol of that version
// (_ZSt21ios_base_library_initv) is never relocated, never called. Debian 12 ships GLIBCXX_3.4.30.
// Flagging the requirement weak is the smallest honest fix: one bit, on a copy in the build output.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/TorchSharpLinuxFix.targets)
// and into the test project, which checks the patch on a real library.
using System;
using System.IO;

namespace LatentLab.Build;

/// <summary>Reads and patches the version-requirement section of an ELF64 little-endian file.</summary>
public static class ElfWeakVersionNeed
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    /// <summary>What <see cref="MakeWeak"/> found or did.</summary>
    public enum Outcome { Patched, AlreadyWeak, VersionNotRequired }

    /// <summary>True when the ELF file at <paramref name="libraryPath"/> defines the version string.</summary>
    /// <remarks>A byte search is enough: version names live in .dynstr as NUL-terminated strings.</remarks>
    public static bool FileMentionsVersion(string libraryPath, string version)
    {
        var bytes = File.ReadAllBytes(libraryPath);
        for (int i = 0; i < bytes.Length; i++)
            if (bytes[i] == version[0] && (i == 0 || bytes[i - 1] == 0) && CStringEquals(bytes, i, version))
                return true;
        return false;
    }

    /// <summary>Sets VER_FLG_WEAK on the requirement named <paramref name="version"/>, in place.</summary>
    public static Outcome MakeWeak(string libraryPath, string version)
    {
        var elf = File.ReadAllBytes(libraryPath);
        var offset = FindVernauxFlagsOffset(elf, version);
        if (offset < 0) return Outcome.VersionNotRequired;

        var flags = BitConverter.ToUInt16(elf, offset);
        if ((flags & VerFlgWeak) != 0) return Outcome.AlreadyWeak;

        // Write a new file and rename it over the old one: if the build output was a hard link into
        // the NuGet cache, the link is broken instead of the cache being modified.
        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, offset);
        var lastWrite = File.GetLastWriteTimeUtc(libraryPath);
        var temporary = libraryPath + ".patching";
        File.WriteAllBytes(temporary, elf);
        // Keep the timestamp so MSBuild's incremental copy (size + time) does not copy the original back.
        File.SetLastWriteTimeUtc(temporary, lastWrite);
        File.Replace(temporary, libraryPath, null); // a rename on Unix
        return Outcome.Patched;
    }

    /// <summary>Returns the vna_flags value of the requirement, or -1 when it is absent.</summary>
    public static int ReadFlags(string libraryPath, string version)
    {
        var elf = File.ReadAllBytes(libraryPath);
        var offset = FindVernauxFlagsOffset(elf, version);
        return offset < 0 ? -1 : BitConverter.ToUInt16(elf, offset);
    }

    // Walks section headers -> SHT_GNU_verneed -> Elf64_Verneed chain -> Elf64_Vernaux chain.
    static int FindVernauxFlagsOffset(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3a);
        int shnum = BitConverter.ToUInt16(elf, 0x3c);

        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;

            int sectionOffset = checked((int)BitConverter.ToInt64(elf, sh + 0x18));
            int linkedStrtab = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int entryCount = (int)BitConverter.ToUInt32(elf, sh + 0x2c); // sh_info: number of Verneed
            int strtabSh = checked((int)(shoff + (long)linkedStrtab * shentsize));
            int strtab = checked((int)BitConverter.ToInt64(elf, strtabSh + 0x18));

            int need = sectionOffset;
            for (int n = 0; n < entryCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int name = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (CStringEquals(elf, name, version)) return aux + 4;
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return -1;
    }

    static bool CStringEquals(byte[] bytes, int start, string text)
    {
        if (start + text.Length >= bytes.Length) return false;
        for (int i = 0; i < text.Length; i++)
            if (bytes[start + i] != text[i]) return false;
        return bytes[start + text.Length] == 0;
    }
}

#if !LATENTLAB_TESTS
/// <summary>MSBuild task: patches every libLibTorchSharp.so under a build output folder when needed.</summary>
public sealed class TorchSharpLinuxFix : Microsoft.Build.Utilities.Task
{
    const string Version = "GLIBCXX_3.4.32";

    static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    [Microsoft.Build.Framework.Required] public string OutputDirectory { get; set; } = "";

    /// <summary>Mark the requirement weak whatever this machine's libstdc++: for what is packed and installed
    /// elsewhere (the .NET tool), where the build machine says nothing of the target's. Harmless where the version exists.</summary>
    public bool Always { get; set; }

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)
            || !Directory.Exists(OutputDirectory))
            return true;

        var libraries = Directory.GetFiles(OutputDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libraries.Length == 0) return true;

        var systemLib = Array.Find(LibStdCxxCandidates, File.Exists);
        if (Always)
        {
            foreach (var library in libraries)
                if (ElfWeakVersionNeed.MakeWeak(library, Version) == ElfWeakVersionNeed.Outcome.Patched)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"TorchSharpLinuxFix: marked {Version} weak in {library} (for packing)");
            return true;
        }
        if (systemLib is null)
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                "TorchSharpLinuxFix: no system libstdc++.so.6 found; libLibTorchSharp.so left as shipped.");
            return true;
        }
        if (ElfWeakVersionNeed.FileMentionsVersion(systemLib, Version))
            return true; // A new enough libstdc++: nothing to fix.

        foreach (var library in libraries)
        {
            var outcome = ElfWeakVersionNeed.MakeWeak(library, Version);
            if (outcome == ElfWeakVersionNeed.Outcome.Patched)
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    $"TorchSharpLinuxFix: {systemLib} lacks {Version}; marked that requirement weak in {library}");
        }
        return true;
    }
}
#endif
