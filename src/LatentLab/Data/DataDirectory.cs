namespace LatentLab.Data;

/// <summary>Where datasets live: <c>--data-dir</c>, else <c>$LATENTLAB_DATA</c>, else <c>data/</c>.</summary>
/// <remarks>The <c>./latent</c> script sets LATENTLAB_DATA to the repository's data/ folder when unset.</remarks>
public static class DataDirectory
{
    public const string EnvironmentVariable = "LATENTLAB_DATA";

    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Path.GetFullPath(option);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return Path.GetFullPath(string.IsNullOrWhiteSpace(fromEnvironment) ? "data" : fromEnvironment);
    }
}
