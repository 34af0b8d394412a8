namespace LatentLab.IO;

/// <summary>Writes files so that a reader never sees a half-written one: temp file, flush to disk, rename.</summary>
/// <remarks>The content is produced in memory first, so the only code between creating the temporary file and
/// renaming it is I/O, and every I/O failure there (a full disk, a file-size limit, no permission) becomes one
/// <see cref="LatentLabException"/> naming the file, with the temporary file removed and the old file untouched.</remarks>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var content = new MemoryStream();
        write(content);
        WriteAllBytes(path, content.GetBuffer().AsSpan(0, (int)content.Length));
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        // Same directory, so the rename cannot cross file systems; pid in the name keeps writers apart.
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        // A write past a file-size limit (EFBIG) surfaces from FileStream as ArgumentOutOfRangeException.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            TryDelete(temporary);
            var reason = e is ArgumentOutOfRangeException ? "the file system refused a file this large (a file-size limit?)" : e.Message;
            throw new LatentLabException($"could not write {path}: {reason}", e);
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
