namespace LatentLab.Cli.Commands;

/// <summary>Checks of the paths a user gives, made before any expensive work (loading data, training), and the words
/// for an I/O failure on one of them.</summary>
public static class PathChecks
{
    /// <summary>An output folder LatentLab will write into: created when missing, and proven writable by creating and
    /// deleting one small file, so a bad --out fails before the dataset is loaded or a model trained.</summary>
    public static string WritableFolder(string path, string option)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new LatentLabException($"{option} {path}: is a file, not a folder");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LatentLabException($"{option} {path}: cannot create the folder ({Reason(e)})");
        }
        try
        {
            var probe = Path.Combine(full, $".latentlab-write-check-{Environment.ProcessId}.tmp");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LatentLabException($"{option} {path}: cannot write there ({Reason(e)})");
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
