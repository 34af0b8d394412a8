namespace LatentLab.Cli.Commands;

/// <summary>Checks of the paths a user gives, made before any expensive work (loading data, training), and the words
/// for an I/O failure on one of them.</summary>
public static class PathChecks
{
    /// <summary>An output folder LatentLab will write into, proven writable before any expensive work (loading data,
    /// training) without changing anything: a small file is created and deleted in the folder, or, when the folder does
    /// not exist yet, in its nearest existing ancestor (the folder itself is created when the first file is written).</summary>
    public static string WritableFolder(string path, string option)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new LatentLabException($"{option} {path}: is a file, not a folder");
        var existing = full;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing)) throw new LatentLabException($"{option} {path}: {existing} is a file, not a folder");
            existing = Path.GetDirectoryName(existing) ?? throw new LatentLabException($"{option} {path}: no part of the path exists");
        }
        try
        {
            var probe = Path.Combine(existing, $".latentlab-write-check-{Environment.ProcessId}.tmp");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LatentLabException(existing == full
                ? $"{option} {path}: cannot write into the folder ({Reason(e)})"
                : $"{option} {path}: cannot create the folder in {existing} ({Reason(e)})");
        }
    }

    /// <summary>A folder LatentLab reads (and may add to): it may be missing, but not a file.</summary>
    public static string FolderNotFile(string path, string option)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new LatentLabException($"{option} {path}: is a file, not a folder");
        return full;
    }

    /// <summary>What went wrong, in words, for the I/O errors a path can cause.</summary>
    public static string Reason(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => "a folder on the path does not exist",
        FileNotFoundException => "no such file or folder",
        PathTooLongException => "the path is too long",
        IOException io => (io.HResult & 0xFFFF) switch
        {
            2 => "no such file or folder",
            13 => "permission denied",
            17 => "it already exists",
            20 => "a part of the path is a file, not a folder",
            21 => "it is a folder, not a file",
            28 => "no space left on the device",
            30 => "the file system is read-only",
            36 => "the name is too long",
            _ => io.Message.TrimEnd('.'),
        },
        _ => e.Message,
    };
}
