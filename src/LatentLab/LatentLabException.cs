namespace LatentLab;

/// <summary>A problem the user can cause and fix (a missing or corrupt file, a bad option value).</summary>
/// <remarks>The CLI prints <see cref="Exception.Message"/> as one line and exits with code 2; anything
/// else that escapes is a bug and keeps its stack trace.</remarks>
public class LatentLabException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A file exists but its contents are not what they must be.</summary>
public sealed class CorruptFileException(string path, string problem)
    : LatentLabException($"{path}: {problem}")
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}
