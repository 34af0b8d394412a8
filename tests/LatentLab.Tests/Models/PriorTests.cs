using LatentLab.Models;
using LatentLab.Models.Priors;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary>Each prior's density against a brute-force or closed-form computation.</summary>
public class PriorTests
{
    static Autoencoder TinyVae(string prior, int components, int latent = 2)
    {
        manual_seed(5);
        return Autoencoder.Create(new ModelConfig("tiny", ModelKind.Vae, latent, [8]) { Image = new(1, 1, 6), Prior = prior, PriorComponents = components });
    }

    /// <summary>The integral of exp(log p) over [-L, L]^2 by the rectangle rule on a fine grid, in float64.</summary>
    static double IntegralOverPlane(Prior prior, double half = 12, int points = 1201)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var u = linspace(-half, half, points, dtype: ScalarType.Float64);
        var grid = meshgrid([u, u], indexing: "ij");
        var z = stack([grid[0].flatten(), grid[1].flatten()], 1).to(ScalarType.Float32);
        double h = 2 * half / (points - 1);
        return (prior.LogDensity(z).to(ScalarType.Float64).exp().sum() * h * h).item<double>();
    }

    [Fact]
    public void TheVampPriorIsTheMixtureOfThePosteriorsAtItsPseudoInputs()
    {
        using var model = TinyVae("vamp", components: 7, latent: 3);
        using var noGrad = no_grad();
        var vamp = Assert.IsType<VampPrior>(model.Prior);
        using var rng = new Generator(3);
        var z = randn([5, 3], generator: rng) * 2;
        var logP = vamp.LogDensity(z).to(ScalarType.Float64).data<double>().ToArray();

        // Brute force: encode each pseudo-input alone, add the seven Gaussian densities in float64, one point at a time.
        var u = vamp.PseudoInputs();
        Assert.True(u.min().item<float>() >= 0 && u.max().item<float>() <= 1, "pseudo-inputs are images in [0, 1]");
        for (int i = 0; i < 5; i++)
        {
            double sum = 0;
            for (int k = 0; k < 7; k++)
            {
                var q = (LatentLab.Models.Posteriors.DiagonalGaussianPosterior)model.Encode(u.narrow(0, k, 1));
                double logN = 0;
                for (int d = 0; d < 3; d++)
                {
                    double m = q.Mu[0, d].item<float>(), v = Math.Exp(q.LogVar[0, d].item<float>()), x = z[i, d].item<float>();
                    logN += -0.5 * ((x - m) * (x - m) / v + Math.Log(2 * Math.PI * v));
                }
                sum += Math.Exp(logN) / 7;
            }
            Assert.True(Math.Abs(Math.Log(sum) - logP[i]) < 1e-4 * Math.Max(1, Math.Abs(logP[i])), $"point {i}: {logP[i]} against brute force {Math.Log(sum)}");
        }
    }

    [Theory]
    [InlineData("standard", 0)]
    [InlineData("mog", 3)]
    [InlineData("vamp", 4)]
    public void EachPriorIntegratesToOneOverThePlane(string name, int components)
    {
        using var model = TinyVae(name, components);
        if (model.Prior is MixturePrior mixture)
        {
            // Away from the initial equal weights and unit variances, so the test covers the general case.
            using var noGrad = no_grad();
            foreach (var p in mixture.parameters()) p.add_(randn(p.shape, generator: new Generator(9)) * 0.5);
        }
        // The rectangle rule on a smooth density that vanishes at the edges: error far below 1e-4 at this spacing (0.02).
        Assert.InRange(IntegralOverPlane(model.Prior!), 1 - 1e-4, 1 + 1e-4);
    }

    [Theory]
    [InlineData("mog", 3)]
    [InlineData("vamp", 4)]
    public void SamplesHaveThePriorsMeanAndSpread(string name, int components)
    {
        using var model = TinyVae(name, components);
        using var noGrad = no_grad();
        using var rng = new Generator(11);
        var samples = model.SamplePrior(200_000, rng).to(ScalarType.Float64);
        // The density's own moments, by quadrature on the plane.
        var u = linspace(-12, 12, 1201, dtype: ScalarType.Float64);
        var grid = meshgrid([u, u], indexing: "ij");
        var z = stack([grid[0].flatten(), grid[1].flatten()], 1);
        var w = model.Prior!.LogDensity(z.to(ScalarType.Float32)).to(ScalarType.Float64).exp();
        w = w / w.sum();
        var mean = (z * w.unsqueeze(1)).sum([0]);
        var second = (z.square() * w.unsqueeze(1)).sum([0]);
        var std = (second - mean.square()).sqrt();
        // 200,000 draws: the mean's standard error is std / 447, under 0.01 here.
        Assert.True(samples.mean([0]).allclose(mean, atol: 0.02), $"mean {string.Join(", ", samples.mean([0]).data<double>().ToArray())} against {string.Join(", ", mean.data<double>().ToArray())}");
        Assert.True(samples.std(0).allclose(std, rtol: 0.02), $"spread {string.Join(", ", samples.std(0).data<double>().ToArray())} against {string.Join(", ", std.data<double>().ToArray())}");
    }

    [Fact]
    public void AFrozenVampPriorGivesTheSameDensityAndForgetsWhenReleased()
    {
        using var model = TinyVae("vamp", components: 6);
        using var noGrad = no_grad();
        using var z = randn(20, 2, generator: new Generator(5));
        var live = model.Prior!.LogDensity(z);
        Tensor frozen;
        using (model.Prior.Frozen()) frozen = model.Prior.LogDensity(z);
        Assert.True(frozen.allclose(live, rtol: 1e-6, atol: 1e-6));
        // Released: a change of the pseudo-inputs shows again.
        foreach (var p in model.Prior.parameters()) p.add_(0.3);
        Assert.False(model.Prior.LogDensity(z).allclose(live, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void ALearnedPriorSavesAndLoadsWithTheWeights()
    {
        using var dir = new TempDir();
        using var model = TinyVae("vamp", components: 4);
        Assert.Contains(model.named_parameters(), p => p.name == "prior.pseudo_inputs");
        ModelFile.Save(model, dir["m.safetensors"]);
        manual_seed(99);
        using var other = Autoencoder.Create(model.Config);
        ModelFile.Load(other, dir["m.safetensors"]);
        using var z = randn(10, 2);
        Assert.True(model.Prior!.LogDensity(z).eq(other.Prior!.LogDensity(z)).all().item<bool>());
    }

    [Fact]
    public void TheElboOfAMixturePriorEstimatesTheKlAtTheSampleAndTrains()
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(0);
        using var model = Autoencoder.Create(ModelRegistry.Get("vae_2d").WithOverrides(prior: "mog", priorComponents: 5));
        Assert.Equal("vae_2d-mog5", model.Config.Name);
        var before = model.named_parameters().Single(p => p.name == "prior.means").parameter.detach().clone();
        using var adam = new LatentLab.Training.FlatAdam(model.parameters(), 1e-3);
        using var rng = new Generator(1);
        var losses = new List<double>();
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            var terms = model.Loss(data.TrainImages.narrow(0, step * 16 % 500, 64), rng);
            losses.Add(terms.Total.item<float>());
            terms.Total.backward();
            adam.Step();
        }
        Assert.True(losses[^1] < losses[0] - 50, $"{losses[0]} -> {losses[^1]}");
        // The prior's parameters received gradients and moved.
        Assert.False(model.named_parameters().Single(p => p.name == "prior.means").parameter.eq(before).all().item<bool>(), "the mixture's means did not train");
    }
}
