using static TorchSharp.torch;

namespace LatentLab.Analysis;

/// <summary>A full-covariance Gaussian fitted to points [N, d] by maximum likelihood: what a plain autoencoder can
/// sample from, since it has no prior of its own.</summary>
public sealed class GaussianFit : IDisposable
{
    public Tensor Mean { get; }
    public Tensor Covariance { get; }
    readonly Tensor _cholesky;

    GaussianFit(Tensor mean, Tensor covariance, Tensor cholesky) => (Mean, Covariance, _cholesky) = (mean, covariance, cholesky);

    public static GaussianFit Fit(Tensor points)
    {
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().mm(centred) / x.shape[0];
        // A tiny ridge keeps the factorisation defined when a dimension is (nearly) constant.
        var ridge = eye(covariance.shape[0], dtype: ScalarType.Float64) * (1e-9 * Math.Max(covariance.diagonal().mean().item<double>(), 1e-12));
        var cholesky = linalg.cholesky(covariance + ridge);
        return new GaussianFit(mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope(), cholesky.MoveToOuterDisposeScope());
    }

    /// <summary>Draws <paramref name="count"/> points, float32 [count, d].</summary>
    public Tensor Sample(int count, Generator rng)
    {
        using var scope = NewDisposeScope();
        var noise = randn(count, Mean.shape[0], dtype: ScalarType.Float64, generator: rng);
        return (noise.mm(_cholesky.t()) + Mean).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
        _cholesky.Dispose();
    }
}
