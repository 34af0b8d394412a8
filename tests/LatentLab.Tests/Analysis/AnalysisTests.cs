using LatentLab.Analysis;
using static TorchSharp.torch;

namespace LatentLab.Tests.Analysis;

public class AnalysisTests
{
    [Fact]
    public void PcaFindsTheDirectionsAndVariancesOfAKnownGaussian()
    {
        using var rng = new Generator(5);
        // Variances 9, 4, 1 along a rotated basis.
        using var noise = randn(20_000, 3, dtype: ScalarType.Float64, generator: rng) * tensor(new[] { 3.0, 2.0, 1.0 });
        using var rotation = linalg.qr(randn(3, 3, dtype: ScalarType.Float64, generator: rng)).Q;
        using var points = noise.mm(rotation.t()) + 5.0;
        using var pca = Pca.Fit(points, 2);
        Assert.Equal(9.0, pca.Variance[0], 0.3);
        Assert.Equal(4.0, pca.Variance[1], 0.15);
        Assert.Equal(9.0 / 14, pca.ExplainedRatio[0], 0.02);
        for (int k = 0; k < 2; k++)
            Assert.True(Math.Abs(pca.Components[k].dot(rotation[.., k]).item<double>()) > 0.999, $"component {k} is off its axis");
        using var projected = pca.Transform(points);
        Assert.Equal(0.0, projected.mean([0]).abs().max().item<double>(), 1e-9);
    }

    [Fact]
    public void TsneKeepsSeparateClustersSeparateAndLowersItsKl()
    {
        using var rng = new Generator(9);
        const int perCluster = 60;
        using var centres = randn(3, 10, dtype: ScalarType.Float64, generator: rng) * 8;
        using var points = cat(Enumerable.Range(0, 3).Select(c => randn(perCluster, 10, dtype: ScalarType.Float64, generator: rng) + centres[c]).ToArray(), 0);
        using var shortRun = Tsne.Embed(points, new TsneOptions(Perplexity: 20, Iterations: 260));
        using var result = Tsne.Embed(points, new TsneOptions(Perplexity: 20, Iterations: 500));
        Assert.True(result.KlDivergence < shortRun.KlDivergence, $"KL {result.KlDivergence} after 500 iterations, {shortRun.KlDivergence} after 260");
        Assert.Equal([3 * perCluster, 2], result.Embedding.shape);

        // Every point's nearest neighbour in the embedding is from its own cluster.
        using var d = cdist(result.Embedding, result.Embedding) + eye(3 * perCluster, dtype: ScalarType.Float64) * 1e9;
        var nearest = d.argmin(1).data<long>().ToArray();
        Assert.All(Enumerable.Range(0, 3 * perCluster), i => Assert.Equal(i / perCluster, (int)nearest[i] / perCluster));
    }

    /// <summary>The fused pass over the pairs gives the gradient of the matrix form, 4 (diag(W 1) Y - W Y) with
    /// W = (a P - num / Z) * num, num_ij = 1 / (1 + |y_i - y_j|^2) off the diagonal, computed by libtorch in float64.
    /// Bound: both are float64 with other summation orders over N = 203 terms: 1e-12 of the largest coordinate is
    /// a thousand times the unit roundoff times the terms' count.</summary>
    [Theory]
    [InlineData(1.0, 3.0)]
    [InlineData(12.0, 3.0)]
    [InlineData(1.0, 1e-6)]      // collapsed, where float32 would round every num_ij to 1
    public void TheFusedGradientIsTheMatrixFormula(double exaggeration, double scale)
    {
        using var rng = new Generator(4);
        const int n = 203;                                         // not a multiple of the vector width nor of the row block
        using var raw = rand(n, n, dtype: ScalarType.Float64, generator: rng);
        using var symmetric = (raw + raw.t()) * (1 - eye(n, dtype: ScalarType.Float64));
        using var p = symmetric / symmetric.sum();
        using var y = randn(n, 2, dtype: ScalarType.Float64, generator: rng) * scale;
        var gradient = new double[2 * n];
        new TsnePairs(p.data<double>().ToArray(), n).Gradient(y.data<double>().ToArray(), exaggeration, gradient);

        using var num = (1 + cdist(y, y).square()).reciprocal() * (1 - eye(n, dtype: ScalarType.Float64));
        using var w = (p * exaggeration - num / num.sum()) * num;
        using var expected = (w.sum(1, keepdim: true) * y - w.mm(y)) * 4;
        var want = expected.data<double>().ToArray();
        double largest = want.Max(Math.Abs);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(gradient[i] - want[i]) <= 1e-12 * largest, $"coordinate {i}: {gradient[i]} against {want[i]}");
    }

    [Fact]
    public void GaussianFitRecoversMeanAndCovarianceAndSamplesFromThem()
    {
        using var rng = new Generator(3);
        var covariance = tensor(new[,] { { 4.0, 1.2 }, { 1.2, 1.0 } });
        using var l = linalg.cholesky(covariance);
        using var points = randn(50_000, 2, dtype: ScalarType.Float64, generator: rng).mm(l.t()) + tensor(new[] { 2.0, -1.0 });
        using var fit = LatentLab.Models.Samplers.GaussianSampler.Fit(points);
        Assert.True(fit.Mean.allclose(tensor(new[] { 2.0, -1.0 }), atol: 0.03));
        Assert.True(fit.Covariance.allclose(covariance, atol: 0.08));
        using var samples = fit.Sample(50_000, rng);
        Assert.Equal(ScalarType.Float32, samples.dtype);
        using var refit = LatentLab.Models.Samplers.GaussianSampler.Fit(samples);
        Assert.True(refit.Covariance.allclose(covariance, atol: 0.1));
    }
}

public class PriorGapTests
{
    [Fact]
    public void StandardNormalPointsAreCloseToNothingAndShiftedScaledOnesMatchTheFormula()
    {
        using var rng = new Generator(21);
        using var normal = randn(200_000, 3, dtype: ScalarType.Float64, generator: rng);
        Assert.Equal(0.0, PriorGap.KlFromStandardNormal(normal), 1e-3);
        // N(1, 4 I) in 3-d: (3*4 + 3 - 3 - 3 ln 4) / 2 = 6 - 1.5 ln 4
        using var shifted = normal * 2 + 1;
        Assert.Equal(6 - 1.5 * Math.Log(4), PriorGap.KlFromStandardNormal(shifted), 0.02);
    }
}
