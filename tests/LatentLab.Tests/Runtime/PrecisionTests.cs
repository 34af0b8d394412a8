using LatentLab.Runtime;

namespace LatentLab.Tests.Runtime;

public class PrecisionTests
{
    static readonly HashSet<string> Avx512Bf16 = ["fpu", "avx512f", "avx512_bf16"];
    static readonly HashSet<string> AmxBf16 = ["fpu", "amx_bf16", "amx_tile"];
    static readonly HashSet<string> NoBf16 = ["fpu", "avx2", "avx512f", "avx512_vnni"];

    [Fact]
    public void AutoPicksFloat32WhenTheCpuHasNoBfloat16FlagWithoutMeasuring()
    {
        Assert.Equal(Precision.Fp32, Precisions.Resolve(PrecisionChoice.Auto, NoBf16, () => throw new InvalidOperationException("measured")));
    }

    [Fact]
    public void AutoPicksBfloat16WhereTheFlagIsThereAndItsProductsAreFaster()
    {
        Assert.Equal(Precision.Bf16, Precisions.Resolve(PrecisionChoice.Auto, Avx512Bf16, () => 4.0));
        Assert.Equal(Precision.Bf16, Precisions.Resolve(PrecisionChoice.Auto, AmxBf16, () => 10.0));
        // The flag without the speed (an Intel Xeon without AMX: half float32's rate) keeps float32.
        Assert.Equal(Precision.Fp32, Precisions.Resolve(PrecisionChoice.Auto, Avx512Bf16, () => 0.55));
    }

    [Fact]
    public void TheChoiceComesWithItsReason()
    {
        Assert.Equal((Precision.Bf16, "auto: bfloat16 products 3.1x float32's on this CPU"), Precisions.Choose(PrecisionChoice.Auto, Avx512Bf16, () => 3.14));
        var (slow, why) = Precisions.Choose(PrecisionChoice.Auto, Avx512Bf16, () => 0.5);
        Assert.Equal(Precision.Fp32, slow);
        Assert.StartsWith("auto: bfloat16 products 0.5x float32's on this CPU, under the 1.25x", why);
        Assert.Equal((Precision.Fp32, "auto: this CPU has no bfloat16 instructions (avx512_bf16, amx_bf16)"), Precisions.Choose(PrecisionChoice.Auto, NoBf16));
        Assert.Equal((Precision.Fp32, "asked for"), Precisions.Choose(PrecisionChoice.Fp32, Avx512Bf16, () => 4));
    }

    [Fact]
    public void ExplicitChoicesAreKeptWhateverTheCpu()
    {
        Assert.Equal(Precision.Bf16, Precisions.Resolve(PrecisionChoice.Bf16, NoBf16));
        Assert.Equal(Precision.Fp32, Precisions.Resolve(PrecisionChoice.Fp32, Avx512Bf16));
    }

    [Fact]
    public void ThisMachinesFlagsAndSpeedupAreRead()
    {
        Assert.Contains("fpu", Precisions.CpuFlags());
        double speedup = Precisions.MeasuredBf16Speedup();
        Assert.InRange(speedup, 0.05, 50);
    }

    [Theory]
    [InlineData("fp32", PrecisionChoice.Fp32)]
    [InlineData("BF16", PrecisionChoice.Bf16)]
    [InlineData("auto", PrecisionChoice.Auto)]
    public void ChoicesParse(string text, PrecisionChoice expected) => Assert.Equal(expected, Precisions.ParseChoice(text));

    [Fact]
    public void AWrongPrecisionIsOneClearLineAndExitTwo()
    {
        var (exit, _, error) = LatentCommand.Run("train", "--model", "vae_2d", "--precision", "fp16", "--out", Path.GetTempPath());
        Assert.Equal(2, exit);
        Assert.Equal("latent: --precision must be fp32, bf16 or auto, got 'fp16'", error.Trim());
    }
}
