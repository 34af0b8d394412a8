namespace LatentLab.Storage;

/// <summary>One writer per run folder: an exclusive lock on <c>.lock</c> in the folder, held while training.</summary>
/// <remarks>.NET opens a file with FileShare.None under an exclusive flock(2) on Linux and macOS. The kernel drops
/// such a lock when its process ends, however it ends (kill -9 included), so a crash never leaves a folder locked;
/// the file itself stays behind, harmless, with the last holder's process id for people to read.</remarks>
public sealed class RunLock : IDisposable
{
    readonly FileStream _stream;

    RunLock(FileStream stream) => _stream = stream;

    public static RunLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, ".lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            using (var writer = new StreamWriter(stream, leaveOpen: true)) writer.Write($"{Environment.ProcessId}\n");
            stream.Flush();
            return new RunLock(stream);
        }
        catch (IOException)
        {
            throw new LatentLabException($"{folder} is being written by another 'latent train' (it holds {path}); wait for it to finish or stop it");
        }
    }

    public void Dispose() => _stream.Dispose();
}
