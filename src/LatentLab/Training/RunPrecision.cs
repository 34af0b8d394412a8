using LatentLab.Models;
using LatentLab.Runtime;
using LatentLab.Storage;

namespace LatentLab.Training;

/// <summary>The precision a training run takes from <c>--precision</c> (train and every sweep point).</summary>
public static class RunPrecision
{
    /// <summary>As <see cref="Precisions.Choose(PrecisionChoice, bool, IReadOnlySet{string}?, Func{double}?, Func{double}?)"/>, except that auto keeps the precision of the run it resumes (a
    /// checkpoint continues in the format it was written in), takes float32 for FactorVAE (its discriminator has no
    /// bfloat16 twin), and float32 for a conv model where libtorch's bfloat16 transposed convolution is wrong
    /// (<see cref="Bf16Convolution"/>).</summary>
    public static (Precision Precision, string Reason) Choose(PrecisionChoice choice, ModelConfig model, RunFolder folder, bool resume)
    {
        bool convolutional = model.Arch == Architecture.Conv;
        if (choice != PrecisionChoice.Auto) return Precisions.Choose(choice, convolutional);
        if (resume && File.Exists(folder.ConfigPath))
        {
            var previous = IO.Json.ReadFile<RunRecord>(folder.ConfigPath).Training.Precision;
            return (previous, $"auto: the run it resumes trained in {previous.Name()}");
        }
        if (model.Gamma is not null) return (Precision.Fp32, "auto: FactorVAE's discriminator trains in float32");
        return Precisions.Choose(choice, convolutional);
    }
}
