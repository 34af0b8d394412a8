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

    /// <summary>Where libtorch's bfloat16 transposed convolution is wrong (the probe's error above 2^-8 of its terms'
    /// magnitude; 0.44-0.58 on an AMD EPYC of family 26), auto keeps bfloat16 for MLP models and takes float32 for conv
    /// ones; bf16 asked for stays, with the fault in its reason. Where the convolution is right, conv models take bf16.</summary>
    [Fact]
    public void AutoTakesFloat32ForConvModelsWhereTheBfloat16ConvolutionIsWrong()
    {
        double wrong = 0.5, right = 1e-3;
        Func<double> fast = () => 3.0;
        Assert.Equal(Precision.Bf16, Precisions.Choose(PrecisionChoice.Auto, convolutional: false, Avx512Bf16, fast, () => wrong).Precision);
        var (conv, why) = Precisions.Choose(PrecisionChoice.Auto, convolutional: true, Avx512Bf16, fast, () => wrong);
        Assert.Equal(Precision.Fp32, conv);
        Assert.Contains("transposed convolution is wrong on this CPU", why);
        Assert.Contains("off by 0.500", why);
        Assert.Equal(Precision.Bf16, Precisions.Choose(PrecisionChoice.Auto, convolutional: true, Avx512Bf16, fast, () => right).Precision);
        var (asked, warning) = Precisions.Choose(PrecisionChoice.Bf16, convolutional: true, Avx512Bf16, fast, () => wrong);
        Assert.Equal(Precision.Bf16, asked);
        Assert.StartsWith("asked for; warning: ", warning);
        // float32 never runs the probe.
        Assert.Equal(Precision.Fp32, Precisions.Choose(PrecisionChoice.Auto, convolutional: true, NoBf16, fast, () => throw new InvalidOperationException("probed")).Precision);
    }

    /// <summary>The probe itself: the same sum in float32 is within float32's own error on every CPU, so a bfloat16
    /// error above the bound is the kernel's, not the probe's arithmetic. Bound: each output sums 128 products (32
    /// channels x 2 x 2 kernel taps at stride 2), each product and addition rounded to float32, so the error is at most
    /// about 128 x 2^-24 = 7.6e-6 of the terms' summed magnitude (Higham's gamma_n); 2^-16 = 1.5e-5 allows twice that.</summary>
    [Fact]
    public void TheConvolutionProbeMeasuresTheKernelNotItsOwnArithmetic()
    {
        Assert.InRange(Bf16Convolution.LargestError(TorchSharp.torch.ScalarType.Float32), 0, 1.0 / 65536);
        double error = Bf16Convolution.LargestError();
        Assert.InRange(error, 0, 2);
        Assert.Equal(error <= Bf16Convolution.Bound, Bf16Convolution.IsRight());
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
