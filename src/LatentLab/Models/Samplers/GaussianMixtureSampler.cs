using static TorchSharp.torch;

namespace LatentLab.Models.Samplers;

/// <summary>A mixture of K full-covariance Gaussians fitted to an autoencoder's training codes by expectation-
/// maximisation: the sampler of Ghosh et al. (2020, "From variational to deterministic autoencoders", ex-post density
/// estimation) and Pythae's GaussianMixtureSampler.</summary>
/// <remarks>EM starts from K distinct training codes drawn with the given seed as means, the codes' covariance for every
/// component and equal weights, and stops when an iteration raises the mean log-likelihood by less than 1e-7 nats or
/// after <see cref="MaxIterations"/>. A ridge of 1e-9 times the mean variance keeps each covariance invertible. Float64.</remarks>
public sealed class GaussianMixtureSampler : Priors.Prior
{
    const double Log2PiConst = 1.8378770664093453;
    public const int MaxIterations = 200;

    public Tensor Weights { get; }
    public Tensor Means { get; }
    public Tensor Covariances { get; }
    readonly Tensor _cholesky;

    GaussianMixtureSampler(Tensor weights, Tensor means, Tensor covariances, Tensor cholesky) : base("sampler") =>
        (Weights, Means, Covariances, _cholesky) = (weights, means, covariances, cholesky);

    public int Components => (int)Weights.shape[0];
    public override string Description => $"a mixture of {Components} Gaussians fitted to the training codes";

    /// <summary>The mean log-likelihood of the training codes after each EM iteration (the first entry: the start).</summary>
    public IReadOnlyList<double> LogLikelihoods { get; private init; } = [];

    public static GaussianMixtureSampler Fit(Tensor points, int components, long seed)
    {
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        long n = x.shape[0], d = x.shape[1];
        if (components < 1 || components > n) throw new LatentLabException($"--sampler-components must be between 1 and the {n:N0} training codes, got {components}");
        using var rng = new Generator((ulong)seed);
        var means = x.index_select(0, randperm(n, generator: rng).narrow(0, 0, components));
        var centred = x - x.mean([0]);
        var covariance = centred.t().mm(centred) / n;
        var ridge = eye(d, dtype: ScalarType.Float64) * (1e-9 * Math.Max(covariance.diagonal().mean().item<double>(), 1e-12));
        var covariances = covariance.unsqueeze(0).expand(components, d, d).clone();
        var weights = full(components, 1.0 / components, dtype: ScalarType.Float64);
        var history = new List<double>();
        var logJoint = empty(n, components, dtype: ScalarType.Float64);                        // [n, K], reused
        for (int iteration = 0; iteration <= MaxIterations; iteration++)
        {
            using var step = NewDisposeScope();
            JointLogDensities(x, means, linalg.cholesky(covariances + ridge), weights, logJoint);
            var logPx = logJoint.logsumexp(1, keepdim: true);
            history.Add(logPx.mean().item<double>());
            if (iteration == MaxIterations || (history.Count > 1 && history[^1] - history[^2] < 1e-7)) break;
            var responsibilities = logJoint.sub_(logPx).exp_();                                // [n, K], in place
            var counts = responsibilities.sum([0]) + 1e-300;                                   // [K]
            var newMeans = responsibilities.t().mm(x) / counts.unsqueeze(1);                   // [K, d]
            var sums = zeros(components, d, d, dtype: ScalarType.Float64);
            for (long row = 0, size = Rows(components, d); row < n; row += size)
            {
                using var block = NewDisposeScope();
                long rows = Math.Min(size, n - row);
                var diff = x.narrow(0, row, rows).unsqueeze(0) - newMeans.unsqueeze(1);        // [K, rows, d]
                var weighted = diff * responsibilities.narrow(0, row, rows).t().unsqueeze(2);
                sums.add_(weighted.transpose(1, 2).bmm(diff));
            }
            means.copy_(newMeans);
            covariances.copy_(sums / counts.view(-1, 1, 1));
            weights.copy_(counts / n);
        }
        var cholesky = linalg.cholesky(covariances + ridge);
        return new GaussianMixtureSampler(weights.clone().DetachFromDisposeScope(), means.clone().DetachFromDisposeScope(),
            covariances.clone().DetachFromDisposeScope(), cholesky.DetachFromDisposeScope()) { LogLikelihoods = history };
    }

    /// <summary>The sampler of saved weights [K], means [K, d] and covariances [K, d, d].</summary>
    public static GaussianMixtureSampler From(Tensor weights, Tensor means, Tensor covariances)
    {
        using var scope = NewDisposeScope();
        long d = means.shape[1];
        var ridge = eye(d, dtype: ScalarType.Float64) * (1e-9 * Math.Max(covariances.diagonal(0, 1, 2).mean().item<double>(), 1e-12));
        var cholesky = linalg.cholesky(covariances.to(ScalarType.Float64) + ridge);
        return new GaussianMixtureSampler(weights.to(ScalarType.Float64).clone().DetachFromDisposeScope(), means.to(ScalarType.Float64).clone().DetachFromDisposeScope(),
            covariances.to(ScalarType.Float64).clone().DetachFromDisposeScope(), cholesky.DetachFromDisposeScope());
    }

    /// <summary>The rows of points a block of the E and M steps takes: enough for [K, rows, d] float64 temporaries of about
    /// 2.6 MB (1,024 rows at K = 10 and d = 32). Whole-data temporaries ([K, n, d], 154 MB for 60,000 32-d codes) cost more
    /// in page faults than in arithmetic: a 32-d fit on MNIST's 60,000 codes took 311 s that way and 20 s in blocks (AMD
    /// EPYC, 2026-12-02), the same parameters to 2e-11. Blocks of 1,024 rows for 2-d codes paid for the operations' count
    /// instead (10.6 s against 5.1 whole); sized by K d, 3.4 s.</summary>
    static long Rows(long components, long d) => Math.Max(1024, (1 << 15) * 10 / (components * d));

    /// <summary>log w_k + log N(x_i; m_k, L_k L_k') for points [n, d], weights [K], means [K, d] and Cholesky factors
    /// [K, d, d], written into <paramref name="into"/> [n, K] block by block: the Mahalanobis term as |L_k^-1 (x_i - m_k)|^2
    /// by a product with L_k^-T, float64 throughout.</summary>
    static void JointLogDensities(Tensor x, Tensor means, Tensor cholesky, Tensor weights, Tensor into)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], d = x.shape[1], k = means.shape[0];
        var eyes = eye(d, dtype: ScalarType.Float64).expand(k, d, d);
        var inverseT = linalg.solve_triangular(cholesky, eyes, upper: false).transpose(1, 2).contiguous();    // [K, d, d] L^-T
        var logDet = 2 * cholesky.diagonal(0, 1, 2).log().sum([1]);                                         // [K]
        var constant = (-0.5 * (logDet + d * Log2PiConst) + weights.log()).unsqueeze(1);                    // [K, 1]
        for (long row = 0, size = Rows(k, d); row < n; row += size)
        {
            using var block = NewDisposeScope();
            long rows = Math.Min(size, n - row);
            var solved = (x.narrow(0, row, rows).unsqueeze(0) - means.unsqueeze(1)).bmm(inverseT);           // [K, rows, d]
            into.narrow(0, row, rows).copy_(solved.mul_(solved).sum([2]).mul_(-0.5).add_(constant).t());
        }
    }

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([("weights", Weights.to(ScalarType.Float32)), ("means", Means.to(ScalarType.Float32)), ("covariances", Covariances.to(ScalarType.Float32))],
         "pick k with probability weights[k]; z = means[k] + L_k eps, eps ~ N(0, I), L_k the Cholesky factor of covariances[k]");

    public override Tensor LogDensity(Tensor z)
    {
        using var scope = NewDisposeScope();
        long d = Means.shape[1];
        var flat = z.to(ScalarType.Float64).reshape(-1, d);
        var joint = empty(flat.shape[0], Components, dtype: ScalarType.Float64);
        JointLogDensities(flat, Means, _cholesky, Weights, joint);
        var logP = joint.logsumexp(1);
        return logP.reshape(z.shape[..^1]).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public override Tensor Sample(long count, Generator rng)
    {
        using var scope = NewDisposeScope();
        var k = multinomial(Weights, count, replacement: true, generator: rng);
        var noise = randn(count, Means.shape[1], dtype: ScalarType.Float64, generator: rng);
        var z = Means.index_select(0, k) + _cholesky.index_select(0, k).bmm(noise.unsqueeze(2)).squeeze(2);
        return z.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Weights.Dispose();
            Means.Dispose();
            Covariances.Dispose();
            _cholesky.Dispose();
        }
        base.Dispose(disposing);
    }
}
