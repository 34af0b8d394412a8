namespace LatentLab.Tests;

/// <summary>A test that needs Linux: elsewhere it is reported as skipped, with the reason, never as passed.</summary>
/// <remarks>xUnit 2 has no skip from inside a test, so the condition is decided when the attribute is built.</remarks>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string why)
    {
        if (!OperatingSystem.IsLinux()) Skip = $"needs Linux: {why}";
    }
}
