using LatentLab.Models;
using LatentLab.Models.Vae;
using LatentLab.Training;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary><c>--activation tanh</c> (Burda et al. 2015's units): every fully connected layer of the model uses it, the
/// encoder computes what the arithmetic says, the hand-written step declines it, and the choice names the run (its bad
/// values: CliTests).</summary>
public class ActivationTests
{
    [Fact]
    public void ATanhModelHasTanhBetweenEveryPairOfLayers()
    {
        var config = ModelRegistry.Get("vae_2l").WithOverrides(activation: Activation.Tanh);
        Assert.Equal("vae_2l-tanh", config.Name);
        manual_seed(1);
        using var model = new VariationalAutoencoder(config);
        var units = model.modules().Distinct().ToList();   // the MLPs register their layers under the chain and themselves
        Assert.DoesNotContain(units, m => m is TorchSharp.Modules.ReLU);
        // Two between the three layers of each network: encoder, decoder, q(z2|z1), p(z1|z2).
        Assert.Equal(8, units.Count(m => m is TorchSharp.Modules.Tanh));
        Assert.Equal("tanh units", FusedMlpStep.Supports(model));
        Assert.Null(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("vae_32d"))));
    }

    [Fact]
    public void TheEncoderComputesTanhOfEachLayer()
    {
        manual_seed(2);
        using var model = new VariationalAutoencoder(ModelRegistry.Get("vae_32d").WithOverrides(activation: Activation.Tanh));
        using var data = Fixtures.MnistSlice();
        using var noGrad = no_grad();
        var x = data.TestImages.narrow(0, 0, 16);
        var p = model.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        // By hand, in float64: h = tanh(W h + b) twice, then the last layer without a nonlinearity.
        var h = x.flatten(1).to(ScalarType.Float64);
        foreach (int i in new[] { 0, 2 }) h = (h.matmul(p[$"encoder.{i}.weight"].to(ScalarType.Float64).t()) + p[$"encoder.{i}.bias"].to(ScalarType.Float64)).tanh();
        var expected = h.matmul(p["encoder.4.weight"].to(ScalarType.Float64).t()) + p["encoder.4.bias"].to(ScalarType.Float64);
        var q = (LatentLab.Models.Posteriors.DiagonalGaussianPosterior)model.Encode(x);
        var actual = cat([q.Mu, q.LogVar], 1).to(ScalarType.Float64);
        // float32 products of 784 and 512 terms of size < 1 against float64: 1e-4 is a hundred times their rounding.
        Assert.True((actual - expected).abs().max().item<double>() < 1e-4);
        // With ReLU the same weights give other outputs: the choice is not ignored.
        var relu = x.flatten(1).to(ScalarType.Float64);
        foreach (int i in new[] { 0, 2 }) relu = (relu.matmul(p[$"encoder.{i}.weight"].to(ScalarType.Float64).t()) + p[$"encoder.{i}.bias"].to(ScalarType.Float64)).relu();
        var other = relu.matmul(p["encoder.4.weight"].to(ScalarType.Float64).t()) + p["encoder.4.bias"].to(ScalarType.Float64);
        Assert.True((actual - other).abs().max().item<double>() > 1e-2);
    }

    [Fact]
    public void TheFixedWeightPassMatchesTheModulesOwnWithTanh()
    {
        manual_seed(3);
        using var model = new VariationalAutoencoder(ModelRegistry.Get("vae_2l").WithOverrides(activation: Activation.Tanh));
        var family = (LatentLab.Models.Posteriors.TwoLevelFamily)model.PosteriorFamily!;
        using var z1 = randn(7, family.Bottom);
        var (mu, logVar) = family.Upper(z1);
        var (muFixed, logVarFixed) = family.UpperAtFixedWeights(z1);
        Assert.Equal(0.0, (mu - muFixed).abs().max().item<float>(), 6);
        Assert.Equal(0.0, (logVar - logVarFixed).abs().max().item<float>(), 6);
    }
}

/// <summary>The in-place tanh of <see cref="LatentLab.Models.Networks.LayerChain"/> back-propagates as the out-of-place one.</summary>
public class TanhChainGradientTests
{
    [Fact]
    public void TheChainsGradientsAreTheOutOfPlaceOnes()
    {
        manual_seed(4);
        using var chain = new LatentLab.Models.Networks.LayerChain("t", LatentLab.Models.Networks.LayerChain.Mlp(6, [5, 4, 3], activation: Activation.Tanh));
        using var x = randn(8, 6);
        using var target = randn(8, 3);
        (chain.call(x) - target).square().sum().backward();
        var inPlace = chain.parameters().Select(p => p.grad!.clone()).ToList();
        foreach (var p in chain.parameters())
        {
            using var grad = p.grad!;   // held until disposed: see DregGradientTests.Step
            grad.zero_();
        }
        var linears = chain.modules().OfType<TorchSharp.Modules.Linear>().Distinct().ToList();
        var h = x;
        for (int i = 0; i < linears.Count; i++)
        {
            h = nn.functional.linear(h, linears[i].weight!, linears[i].bias);
            if (i < linears.Count - 1) h = h.tanh();
        }
        (h - target).square().sum().backward();
        var outOfPlace = chain.parameters().Select(p => p.grad!.clone()).ToList();
        Assert.Equal(6, inPlace.Count);
        for (int i = 0; i < inPlace.Count; i++)
            Assert.True((inPlace[i] - outOfPlace[i]).abs().max().item<float>() < 1e-5, $"parameter {i}: the in-place tanh back-propagates otherwise");
        Assert.True(inPlace.All(g => g.abs().sum().item<float>() > 0));
    }
}
