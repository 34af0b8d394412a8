using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Models.Vae;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentLab.Tests.Evaluation;

public class IwaeTests(ITestOutputHelper output)
{
    /// <summary>A VAE over 6 binary pixels with a 1-d latent: log p(x) = log of an integral over one variable.</summary>
    static VariationalAutoencoder TinyVae()
    {
        manual_seed(42);
        return new VariationalAutoencoder(new ModelConfig("tiny", ModelKind.Vae, 1, [8]) { Image = new(1, 1, 6) });
    }

    /// <summary>log p(x) = log of the integral of p(x|z) N(z; 0, 1) dz, by the rectangle rule on a fine grid.</summary>
    static double[] ExactLogLikelihood(VariationalAutoencoder model, Tensor x)
    {
        using var noGrad = no_grad();
        const int points = 24001;
        const double lo = -12, hi = 12, dz = (hi - lo) / (points - 1);
        var z = linspace(lo, hi, points, dtype: ScalarType.Float64).view(-1, 1);
        var logits = model.Decode(z.to(ScalarType.Float32)).flatten(1).to(ScalarType.Float64);     // [points, 6]
        var logPrior = -0.5 * (z.square() + Math.Log(2 * Math.PI));                       // [points, 1]
        var result = new double[x.shape[0]];
        for (int i = 0; i < result.Length; i++)
        {
            var xi = x[i].to(ScalarType.Float64);
            var logPxGivenZ = (logits * xi).sum([1], keepdim: true) - nn.functional.softplus(logits).sum([1], keepdim: true);
            result[i] = ((logPxGivenZ + logPrior).logsumexp(0) + Math.Log(dz)).item<double>();
        }
        return result;
    }

    [Fact]
    public void TheBoundRisesWithKAndApproachesTheExactLogLikelihood()
    {
        using var model = TinyVae();
        model.eval();
        var patterns = tensor(new float[] { 0, 0, 0, 0, 0, 0,  1, 1, 1, 1, 1, 1,  1, 0, 1, 0, 1, 0,  0, 1, 1, 0, 0, 1,
                                            1, 1, 0, 0, 0, 0,  0, 0, 0, 1, 1, 1,  1, 0, 0, 1, 0, 0,  0, 1, 0, 1, 1, 0 }, [8, 6]);
        double exact = ExactLogLikelihood(model, patterns).Average();
        // 100 independent estimates per pattern: the average's noise is ~1e-3 nats at k = 1 and less beyond.
        var repeated = patterns.repeat(100, 1);
        var rng = new Generator(7);
        var bounds = new[] { 1, 3, 10, 30, 1000, 10000 }
            .Select(k => (K: k, Value: Iwae.LogLikelihood(model, repeated, k, rng).mean().item<double>())).ToList();
        foreach (var (k, value) in bounds) output.WriteLine($"k={k,5}: {value:F5}  (exact {exact:F5}, gap {exact - value:F5})");

        // Rises with k while the expected gain (here 0.1 to 0.005 nats a step) dwarfs the noise...
        for (int i = 1; i < 4; i++)
            Assert.True(bounds[i].Value > bounds[i - 1].Value, $"k={bounds[i].K} gave {bounds[i].Value}, not above k={bounds[i - 1].K}'s {bounds[i - 1].Value}");
        // ...is a lower bound (up to that noise), and closes in on the exact value.
        Assert.All(bounds, b => Assert.True(b.Value < exact + 2e-3, $"k={b.K}: {b.Value} lies above log p(x) = {exact}"));
        Assert.True(exact - bounds[0].Value > 0.05, "the k=1 bound (the ELBO) must lie well below log p(x) for this model");
        Assert.All(bounds.TakeLast(2), b => Assert.True(Math.Abs(exact - b.Value) < 3e-3, $"k={b.K} is {exact - b.Value} nats from the exact value"));
    }
}
