namespace LatentLab.Cli;

/// <summary>The exit codes of <c>latent</c>.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A bug: something failed that the user could not have caused (a stack trace is printed).</summary>
    public const int InternalError = 1;
    /// <summary>Bad input: an unknown name, a bad option value, a missing or corrupt file.</summary>
    public const int BadInput = 2;
    /// <summary>Stopped by Ctrl-C or SIGTERM after saving a resumable state (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
