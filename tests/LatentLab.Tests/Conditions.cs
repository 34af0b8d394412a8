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

/// <summary>A test of bfloat16 convolutions: skipped, with the error measured, where libtorch's bfloat16 transposed
/// convolution is wrong beyond its rounding on this machine's CPU (<see cref="LatentLab.Runtime.Bf16Convolution"/>: the
/// probe, its bound and why; on an AMD EPYC of family 26, Zen 5, an output off by 0.44-0.58 of its terms' magnitude).</summary>
public sealed class Bf16ConvolutionFactAttribute : FactAttribute
{
    public Bf16ConvolutionFactAttribute()
    {
        if (!LatentLab.Runtime.Bf16Convolution.IsRight()) Skip = LatentLab.Runtime.Bf16Convolution.Fault();
    }
}
