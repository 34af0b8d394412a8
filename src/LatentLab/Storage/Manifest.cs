using LatentLab.IO;

namespace LatentLab.Storage;

/// <summary>SHA256SUMS in a run folder: the SHA-256 of the weights and the checkpoint, in the format of
/// <c>sha256sum</c>, so <c>sha256sum -c SHA256SUMS</c> checks a folder without LatentLab.</summary>
/// <remarks>Written after the files it lists, at the end of every epoch. A process killed between the two leaves the
/// manifest one save behind: loading a model then reports the mismatch, and a resume (which checks the checkpoint by the
/// SHA-256 inside it) rewrites both.</remarks>
public static class Manifest
{
    public const string FileName = "SHA256SUMS";

    public static void Write(string folder, params string[] files) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName),
            string.Concat(files.Select(f => $"{Hashing.FileSha256(Path.Combine(folder, f))}  {f}\n")));

    /// <summary>Checks <paramref name="file"/> against the manifest when the manifest lists it.</summary>
    public static void Verify(string folder, string file)
    {
        var manifest = Path.Combine(folder, FileName);
        if (!File.Exists(manifest)) return;
        var entry = File.ReadLines(manifest).Select(l => l.Split("  ", 2)).FirstOrDefault(p => p.Length == 2 && p[1] == file);
        if (entry is null) return;
        var path = Path.Combine(folder, file);
        var actual = Hashing.FileSha256(path);
        if (actual != entry[0])
            throw new CorruptFileException(path, $"SHA-256 {actual[..12]}... does not match {FileName} ({entry[0][..12]}...): the file is damaged, " +
                                                 "or training stopped while saving (continue it with --resume)");
    }
}
