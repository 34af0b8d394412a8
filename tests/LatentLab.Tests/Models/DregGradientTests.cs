using LatentLab.Models;
using LatentLab.Models.Vae;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary>The doubly reparameterized gradient of the importance-weighted bound (Tucker et al. 2019): the same loss and,
/// at the same noise, the same gradients for the decoder and the prior; for the posterior's networks a different
/// estimate with the same expectation as the usual gradient, and a smaller spread.</summary>
public class DregGradientTests
{
    const int K = 5;

    static VariationalAutoencoder Model(string preset, bool dreg)
    {
        manual_seed(5);   // the same weights for both estimators
        var model = new VariationalAutoencoder(ModelRegistry.Get(preset).WithOverrides(iwaeSamples: K, dreg: dreg ? true : null));
        model.train();
        return model;
    }

    static bool OfThePosterior(string name) =>
        name.StartsWith("encoder.", StringComparison.Ordinal) || name.StartsWith("posterior.", StringComparison.Ordinal);

    /// <summary>Loss and gradients of one step from the generator's seed.</summary>
    static (double Loss, Dictionary<string, float[]> Gradients) Step(VariationalAutoencoder model, Tensor x, ulong seed, double klWeight = 1.0)
    {
        // Each .grad is a new wrapper of its own handle; held in a local until disposed, so that the GC cannot finalize it
        // (and free its handle) while zero_ still runs in libtorch: outside a dispose scope nothing else holds it.
        foreach (var p in model.parameters())
        {
            using var grad = p.grad;
            grad?.zero_();
        }
        using var rng = new Generator(seed);
        using var scope = NewDisposeScope();
        var terms = model.Loss(x, rng, klWeight);
        Assert.Equal(model.Config.Dreg, terms.Path is not null);
        terms.Backward();
        return (terms.Total.item<float>(),
                model.named_parameters().Where(p => p.parameter.grad is not null)
                     .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray()));
    }

    [Theory]
    [InlineData("vae_2d")]
    [InlineData("vae_2l")]
    public void TheDecoderAndThePriorGetTheUsualGradientAtTheSameNoise(string preset)
    {
        using var data = Fixtures.MnistSlice();
        using var x = data.TestImages.narrow(0, 0, 64).clone();
        using var standard = Model(preset, dreg: false);
        using var dreg = Model(preset, dreg: true);
        var (lossA, a) = Step(standard, x, 9);
        var (lossB, b) = Step(dreg, x, 9);

        // The same draws; log q differs only in how it is rounded (from eps^2, or from (z - mu)^2 / sigma^2): float32
        // rounding of a sum of a few hundred terms of size ~1, 1e-5 nats at most against a loss of ~500.
        Assert.Equal(lossA, lossB, 1e-3);
        int compared = 0;
        foreach (var (name, ga) in a)
        {
            var gb = b[name];
            double scale = ga.Max(v => Math.Abs((double)v)), gap = ga.Zip(gb, (u, v) => Math.Abs((double)u - v)).Max();
            if (OfThePosterior(name)) continue;
            // The normalized weights move with log q's rounding, relatively ~1e-6 on values of order one; 1e-4 of the
            // tensor's largest gradient leaves a hundredfold margin and still fails for any missing or extra term.
            Assert.True(gap <= 1e-4 * scale + 1e-7, $"{name}: gradients differ by {gap:g3} (largest {scale:g3})");
            compared++;
        }
        Assert.True(compared >= 4, $"only {compared} decoder and prior tensors compared");
        // The posterior's gradient is another estimate: at the same noise it must differ, or the path was not taken.
        double differs = a.Where(p => OfThePosterior(p.Key)).Sum(p => p.Value.Zip(b[p.Key], (u, v) => Math.Abs((double)u - v)).Sum());
        Assert.True(differs > 0, "the posterior's gradients are the usual ones: the doubly reparameterized path did not run");
    }

    /// <remarks>Each estimator's gradient of the posterior's last layers is averaged over 16 steps with fresh noise on
    /// 2,048 rows (16 test images, each 128 times), and the two means compared component by component in units of
    /// their standard error, sigma estimated from the 16 repeats. Unbiased estimators give z^2 averaging about one
    /// (a little above, for the estimated sigma); a mean z^2 above 4 has odds below 1 in 300 for four components
    /// and far less for more. Replacing the w~^2 with w~ (the biased "sticking the landing" rule) fails this test. With a
    /// warm-up weight beta the comparison is against the usual gradient of the same weighted objective.</remarks>
    [Theory]
    [InlineData("vae_2d", "encoder.4.bias", 1.0)]
    [InlineData("vae_2l", "posterior.net.4.bias", 1.0)]
    [InlineData("vae_2d", "encoder.4.bias", 0.4)]
    public void ThePosteriorsGradientHasTheUsualExpectationAndLessSpread(string preset, string tensor, double klWeight)
    {
        using var data = Fixtures.MnistSlice();
        using var x = data.TestImages.narrow(0, 0, 16).repeat(128, 1, 1, 1);
        using var standard = Model(preset, dreg: false);
        using var dreg = Model(preset, dreg: true);
        const int repeats = 16;
        double[][] Draws(VariationalAutoencoder model) =>
            [.. Enumerable.Range(0, repeats).Select(r => Step(model, x, 100 + (ulong)r, klWeight).Gradients[tensor].Select(v => (double)v).ToArray())];
        var a = Draws(standard);
        var b = Draws(dreg);
        int n = a[0].Length;
        double Mean(double[][] s, int i) => s.Average(g => g[i]);
        double Variance(double[][] s, int i) { double m = Mean(s, i); return s.Sum(g => (g[i] - m) * (g[i] - m)) / (repeats - 1); }

        double z2 = Enumerable.Range(0, n).Average(i =>
        {
            double d = Mean(a, i) - Mean(b, i), se2 = (Variance(a, i) + Variance(b, i)) / repeats;
            return d * d / Math.Max(se2, 1e-30);
        });
        Assert.True(z2 < 4, $"the means differ by {Math.Sqrt(z2):F2} standard errors (root mean square over {n} components)");
        double spreadA = Enumerable.Range(0, n).Sum(i => Variance(a, i)), spreadB = Enumerable.Range(0, n).Sum(i => Variance(b, i));
        Assert.True(spreadB < spreadA, $"the doubly reparameterized gradient spreads more ({spreadB:g3}) than the usual ({spreadA:g3})");
    }
}
