using LatentLab.Models;
using LatentLab.Models.Networks;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary>The fused decoder likelihood the importance-weighted estimate takes against the modules' own
/// (<see cref="Likelihood.LogBernoulli"/> of <see cref="Autoencoder.Decode"/>).</summary>
public class MlpBernoulliLikelihoodTests
{
    /// <summary>Both sum an image's 784 terms t_j = x_j l_j - softplus(l_j) in float32, in different orders. A float32 sum
    /// of n terms is within (n - 1) 2^-24 sum |t_j| of the exact sum, so two of them are within twice that of each other;
    /// each term's own error (the product of the last layer, identical inputs; softplus within a few ulp here and in
    /// libtorch) adds at most 8 2^-24 |t_j|. Bound per code: (2 (n - 1) + 8) 2^-24 sum |t_j|, with t from the modules'
    /// logits in float64. Codes of three scales (logits to about +-60), shapes that change between calls (the buffers
    /// are kept per shape) and binary and grey images. For a bfloat16 twin the same bound: its logits are the modules'
    /// bit for bit (the same libtorch products on the same bfloat16 operands, the bias copied in first as linear does),
    /// widened exactly, so only the float32 pass differs.</summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void EqualsTheModulesLikelihoodWithinFloat32Sums(ScalarType type)
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(11);
        using var master = Autoencoder.Create(ModelRegistry.Get("vae_32d"));
        using var noGrad = no_grad();
        // A fresh decoder's logits stay near 0; its weights tripled reach the saturated logits a trained one makes.
        foreach (var (name, p) in master.named_parameters()) if (name.StartsWith("decoder.", StringComparison.Ordinal)) p.mul_(3);
        using var twin = type == ScalarType.Float32 ? null : master.Twin(type);
        var model = twin ?? master;
        model.eval();
        Assert.True(MlpBernoulliLikelihood.Applies(model), $"precondition: the fused path applies to vae_32d in {type} without gradients");
        foreach (var (images, draws, scale, binary) in new[] { (7, 3, 1f, true), (16, 128, 4f, false), (7, 3, 12f, true), (64, 32, 1f, false) })
        {
            using var scope = NewDisposeScope();
            var grey = data.TestImages.narrow(0, 0, images).flatten(1);
            var x = binary ? (grey > 0.5f).to(ScalarType.Float32) : grey;
            var z = randn(draws * images, 32) * scale;
            var fused = MlpBernoulliLikelihood.LogLikelihood(model, z, x);
            var logits = model.Decode(z).flatten(1).to(ScalarType.Float64);
            var xs = x.repeat(draws, 1).to(ScalarType.Float64);
            var terms = xs * logits - nn.functional.softplus(logits);
            var reference = Likelihood.LogBernoulli(model.Decode(z).flatten(1), x.repeat(draws, 1));
            var bound = terms.abs().sum(1) * ((2 * 783 + 8) * Math.Pow(2, -24));
            var difference = (fused.to(ScalarType.Float64) - reference.to(ScalarType.Float64)).abs();
            Assert.True((difference <= bound).all().item<bool>(),
                $"{images} images x {draws}, scale {scale}: max |difference| {difference.max().item<double>():E3}, its bound {bound.min().item<double>():E3} at the least");
            if (scale > 10) Assert.True(logits.abs().max().item<double>() > 20, $"precondition: the large codes give large logits, max {logits.abs().max().item<double>():F1}");
        }
    }

    /// <summary>The importance weights the estimate uses, with the same noise: through the fused path (no gradient) and
    /// through the modules (gradients on, where it does not apply). They differ only in log p(x|z), whose terms are all
    /// at most 0 (a log-probability), so sum |t_j| = |log p(x|z)|: the bound of the test above, per weight.</summary>
    [Fact]
    public void TheEstimatesWeightsAreTheModulesWeights()
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(12);
        using var model = Autoencoder.Create(ModelRegistry.Get("vae_32d"));
        var x = data.TestImages.narrow(0, 0, 10);
        Tensor fused, reference, priorMinusPosterior;
        using (no_grad())
        {
            Assert.True(MlpBernoulliLikelihood.Applies(model));
            using (var rng = new Generator(5)) fused = model.LogWeights(model.Encode(x), x, 20, rng);
            using (var rng = new Generator(5))
            {
                var (z, logQ) = model.Encode(x).Sample(20, rng);
                priorMinusPosterior = model.Prior!.LogDensity(z) - logQ;
            }
        }
        Assert.False(MlpBernoulliLikelihood.Applies(model), "with gradients on, the modules compute it");
        using (var rng = new Generator(5)) reference = model.LogWeights(model.Encode(x), x, 20, rng).detach();
        Assert.Equal([20L, 10L], fused.shape);
        var logLikelihood = (reference - priorMinusPosterior).to(ScalarType.Float64);
        var bound = logLikelihood.abs() * ((2 * 783 + 8) * Math.Pow(2, -24));
        var difference = (fused.to(ScalarType.Float64) - reference.to(ScalarType.Float64)).abs();
        Assert.True((difference <= bound).all().item<bool>(), $"max |difference| {difference.max().item<double>():E3}, bound {bound.min().item<double>():E3} at the least");
    }
}
