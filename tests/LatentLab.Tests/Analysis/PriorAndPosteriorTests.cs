using LatentLab.Analysis;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Tests.Analysis;

public class PriorAndPosteriorTests
{
    /// <summary>A VAE whose encoder ignores the image and outputs q(z|x) = N(m, s^2) for every image.</summary>
    static Autoencoder ConstantPosterior(double m1, double m2, double logVar)
    {
        manual_seed(1);
        var model = Autoencoder.Create(ModelRegistry.Get("vae_2d"));
        using var noGrad = no_grad();
        var last = model.named_parameters().Where(p => p.name.StartsWith("encoder.")).ToList();
        last[^2].parameter.zero_();                                        // the last layer's weight
        last[^1].parameter.copy_(tensor(new float[] { (float)m1, (float)m2, (float)logVar, (float)logVar }));   // its bias: mu, logVar
        return model;
    }

    [Fact]
    public void PosteriorsEqualToThePriorGiveNoKlAndTheSameDensity()
    {
        using var model = ConstantPosterior(0, 0, 0);
        using var data = Fixtures.MnistSlice();
        var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
        var p = PriorAndPosterior.Compute(model, data.TestImages, labels, seed: 0);
        Assert.Equal(0.0, p.MeanKl, 6);
        Assert.Equal(0.0, p.KlAggregateToPrior, 6);   // q(z) is N(0, I) itself: log q = log p at every draw
        double largest = 0;
        foreach (var (a, b) in p.Aggregate.LogDensity.Cast<double>().Zip(p.Prior.LogDensity.Cast<double>())) largest = Math.Max(largest, Math.Abs(a - b));
        Assert.True(largest < 1e-5, $"log q(z) and log p(z) differ by {largest} on the grid");
    }

    [Fact]
    public void AShiftedNarrowPosteriorGivesTheClosedFormKl()
    {
        // Every image's q(z|x) = N((1, -0.5), 0.25 I): the aggregate is that same Gaussian, so both KLs are the closed form
        // KL(N(m, s^2 I) || N(0, I)) = (2 s^2 + |m|^2 - 2 - 2 log s^2) / 2.
        using var model = ConstantPosterior(1, -0.5, Math.Log(0.25));
        using var data = Fixtures.MnistSlice();
        var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
        var p = PriorAndPosterior.Compute(model, data.TestImages, labels, seed: 0);
        double exact = 0.5 * (2 * 0.25 + 1.25 - 2 - 2 * Math.Log(0.25));
        Assert.Equal(exact, p.MeanKl, 4);
        // One draw per image from 100 images: the estimate's spread is about sd(log q - log p) / 10, under 0.15 here.
        Assert.InRange(p.KlAggregateToPrior, exact - 0.3, exact + 0.3);
    }
}
