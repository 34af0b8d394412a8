using static TorchSharp.torch;

namespace LatentLab.Data;

/// <summary>The binarization protocol of the likelihood literature (Burda et al. 2015): training pixels are drawn
/// as Bernoulli of their intensity afresh each time; the test split is drawn once, with a fixed seed.</summary>
public static class Binarization
{
    /// <summary>The binarized test split for a run seed; the same seed always gives the same images.</summary>
    public static Tensor FixedTestSplit(Tensor testImages, long seed)
    {
        using var generator = new Generator((ulong)seed + 2);
        return bernoulli(testImages, generator: generator);
    }
}
