using System.Text.Json;
using LatentLab.Evaluation;
using static TorchSharp.torch;

namespace LatentLab.Tests.Evaluation;

/// <summary>Agreement with independent implementations (Fixtures/make_metric_fixtures.py: scikit-image, NumPy).</summary>
public class ImageMetricsTests
{
    sealed record Pair(string Kind, int[] A, int[] B, double Ssim, double Mse, double Psnr);
    sealed record Pairs(Pair[] Items);
    sealed record BceCase(double[] Logits, int[] Target, double Bce);

    static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Folder("metrics"), name))).RootElement;

    static List<(string Kind, double[] A, double[] B, double Ssim, double Mse, double Psnr)> ImagePairs() =>
        Load("image_pairs.json").GetProperty("pairs").EnumerateArray().Select(p => (
            p.GetProperty("kind").GetString()!,
            p.GetProperty("a").EnumerateArray().Select(v => v.GetInt32() / 255.0).ToArray(),
            p.GetProperty("b").EnumerateArray().Select(v => v.GetInt32() / 255.0).ToArray(),
            p.GetProperty("ssim").GetDouble(), p.GetProperty("mse").GetDouble(), p.GetProperty("psnr").GetDouble())).ToList();

    static (Tensor A, Tensor B) Stack(IEnumerable<(double[] A, double[] B)> pairs)
    {
        var list = pairs.ToList();
        return (tensor(list.SelectMany(p => p.A).ToArray(), [list.Count, 784], ScalarType.Float64),
                tensor(list.SelectMany(p => p.B).ToArray(), [list.Count, 784], ScalarType.Float64));
    }

    [Fact]
    public void SsimAgreesWithScikitImageWithin1e4OnEveryPair()
    {
        var pairs = ImagePairs();
        Assert.True(pairs.Count >= 50);
        var (a, b) = Stack(pairs.Select(p => (p.A, p.B)));
        var ssim = ImageMetrics.Ssim(a, b).data<double>().ToArray();
        for (int i = 0; i < pairs.Count; i++)
            Assert.True(Math.Abs(ssim[i] - pairs[i].Ssim) <= 1e-4, $"pair {i} ({pairs[i].Kind}): {ssim[i]} vs scikit-image {pairs[i].Ssim}");
    }

    [Fact]
    public void MseAndPsnrAgreeWithNumPy()
    {
        var pairs = ImagePairs();
        var (a, b) = Stack(pairs.Select(p => (p.A, p.B)));
        var mse = ImageMetrics.Mse(a, b).data<double>().ToArray();
        var psnr = ImageMetrics.Psnr(a, b).data<double>().ToArray();
        for (int i = 0; i < pairs.Count; i++)
        {
            Assert.Equal(pairs[i].Mse, mse[i], 1e-12);
            Assert.Equal(pairs[i].Psnr, psnr[i], 1e-9);
        }
    }

    [Fact]
    public void BceAgreesWithNumPy()
    {
        foreach (var c in Load("bce.json").GetProperty("cases").EnumerateArray())
        {
            var logits = tensor(c.GetProperty("logits").EnumerateArray().Select(v => v.GetDouble()).ToArray(), [1, 784], ScalarType.Float64);
            var target = tensor(c.GetProperty("target").EnumerateArray().Select(v => v.GetInt32() / 255.0).ToArray(), [1, 784], ScalarType.Float64);
            double expected = c.GetProperty("bce").GetDouble();
            Assert.Equal(expected, ImageMetrics.Bce(logits, target).item<double>(), 1e-8 * Math.Abs(expected) + 1e-9);
        }
    }

    [Fact]
    public void IdenticalImagesHaveSsimOneAndZeroError()
    {
        using var data = Fixtures.MnistSlice();
        var x = data.TestImages.narrow(0, 0, 10);
        Assert.All(ImageMetrics.Ssim(x, x).data<double>().ToArray(), v => Assert.Equal(1.0, v, 12));
        Assert.All(ImageMetrics.Mse(x, x).data<double>().ToArray(), v => Assert.Equal(0.0, v));
    }
}
