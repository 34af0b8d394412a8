using static TorchSharp.torch;

namespace LatentLab.Models.Samplers;

/// <summary>A full-covariance Gaussian fitted to an autoencoder's training codes [N, d] by maximum likelihood: what a
/// plain autoencoder samples from, since it has no prior of its own (Ghosh et al. 2020's ex-post density estimation
/// with one component).</summary>
public sealed class GaussianSampler : Priors.Prior
{
    const double Log2PiConst = 1.8378770664093453;

    public Tensor Mean { get; }
    public Tensor Covariance { get; }
    readonly Tensor _cholesky;

    GaussianSampler(Tensor mean, Tensor covariance, Tensor cholesky) : base("sampler") =>
        (Mean, Covariance, _cholesky) = (mean, covariance, cholesky);

    public override string Description => "a Gaussian fitted to the training codes";

    public static GaussianSampler Fit(Tensor points)
    {
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().mm(centred) / x.shape[0];
        return From(mean, covariance);
    }

    /// <summary>The sampler of a given mean [d] and covariance [d, d], as fitted or as saved. It owns copies of its
    /// tensors, outside any dispose scope: it lives as long as the model that samples from it.</summary>
    public static GaussianSampler From(Tensor mean, Tensor covariance)
    {
        using var scope = NewDisposeScope();
        // A tiny ridge keeps the factorisation defined when a dimension is (nearly) constant.
        var ridge = eye(covariance.shape[0], dtype: ScalarType.Float64) * (1e-9 * Math.Max(covariance.diagonal().mean().item<double>(), 1e-12));
        var cholesky = linalg.cholesky(covariance + ridge);
        return new GaussianSampler(mean.to(ScalarType.Float64).clone().DetachFromDisposeScope(),
            covariance.to(ScalarType.Float64).clone().DetachFromDisposeScope(), cholesky.DetachFromDisposeScope());
    }

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([("mean", Mean.to(ScalarType.Float32)), ("covariance", Covariance.to(ScalarType.Float32))],
         "z = mean + L eps, eps ~ N(0, I), L the Cholesky factor of covariance");

    /// <summary>Draws <paramref name="count"/> points, float32 [count, d].</summary>
    public override Tensor Sample(long count, Generator rng)
    {
        using var scope = NewDisposeScope();
        var noise = randn(count, Mean.shape[0], dtype: ScalarType.Float64, generator: rng);
        return (noise.mm(_cholesky.t()) + Mean).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>log N(z; mean, covariance) of z [..., d], float32 [...].</summary>
    public override Tensor LogDensity(Tensor z)
    {
        using var scope = NewDisposeScope();
        long d = Mean.shape[0];
        var centred = (z.to(ScalarType.Float64) - Mean).reshape(-1, d);
        var solved = linalg.solve_triangular(_cholesky, centred.t(), upper: false);      // L^-1 (z - m)
        var logDet = 2 * _cholesky.diagonal().log().sum();
        var logP = -0.5 * (solved.square().sum([0]) + logDet + d * Log2PiConst);
        var shape = z.shape[..^1];
        return logP.reshape(shape).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Mean.Dispose();
            Covariance.Dispose();
            _cholesky.Dispose();
        }
        base.Dispose(disposing);
    }
}
