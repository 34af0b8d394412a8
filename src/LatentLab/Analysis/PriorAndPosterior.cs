using LatentLab.Models;
using LatentLab.Models.Posteriors;
using static TorchSharp.torch;

namespace LatentLab.Analysis;

/// <summary>A density on a rectangular grid of the plane: <c>LogDensity[i, j]</c> at (X[j], Y[i]), nats.</summary>
public sealed record DensityGrid(double[] X, double[] Y, double[,] LogDensity)
{
    /// <summary>The points of a <paramref name="points"/>-square grid over [lo0, hi0] x [lo1, hi1]: the axes, and the
    /// points [G*G, 2] float64, row i*G + j = (x_j, y_i), the order <c>From</c> reads values in.</summary>
    public static (Tensor Xs, Tensor Ys, Tensor Points) Mesh(double lo0, double hi0, double lo1, double hi1, int points)
    {
        var xs = linspace(lo0, hi0, points, dtype: ScalarType.Float64);
        var ys = linspace(lo1, hi1, points, dtype: ScalarType.Float64);
        var mesh = meshgrid([ys, xs], indexing: "ij");
        return (xs, ys, stack([mesh[1].flatten(), mesh[0].flatten()], 1));
    }

    /// <summary>The grid of the axes <paramref name="xs"/>, <paramref name="ys"/> holding log-densities given at the
    /// points of <see cref="Mesh"/> ([G*G], any floating type).</summary>
    public static DensityGrid From(Tensor xs, Tensor ys, Tensor flat) => From(xs.data<double>().ToArray(), ys.data<double>().ToArray(), flat);

    public static DensityGrid From(double[] xs, double[] ys, Tensor flat)
    {
        var values = flat.to(ScalarType.Float64).data<double>().ToArray();
        var grid = new double[ys.Length, xs.Length];
        for (int i = 0; i < ys.Length; i++)
            for (int j = 0; j < xs.Length; j++) grid[i, j] = values[i * xs.Length + j];
        return new DensityGrid(xs, ys, grid);
    }
}

/// <summary>What the prior-and-posterior picture of a 2-d VAE shows, as plain numbers.</summary>
/// <param name="Prior">log p(z) on the grid.</param>
/// <param name="Aggregate">log q(z), q(z) = (1/N) sum_n q(z|x_n) over <see cref="AggregateImages"/> test images.</param>
/// <param name="CodeX">The posterior means of those images (with <see cref="CodeY"/> and their <see cref="Labels"/>).</param>
/// <param name="SdX">The posterior standard deviations of the first <see cref="Ellipses"/> of them (the 1-sigma ellipses).</param>
/// <param name="KlAggregateToPrior">KL(q(z) || p(z)) in nats, estimated from one draw z_n ~ q(z|x_n) per image with
/// log q(z_n) the log of the mixture's density (Hoffman &amp; Johnson 2016's "ELBO surgery" term).</param>
/// <param name="MeanKl">The mean of KL(q(z|x) || p(z)) over the same images (estimated at the same draws where the
/// prior has no closed form): the ELBO's KL term, of which the aggregate's KL is a part.</param>
public sealed record PriorPosteriorPicture(string Model, string PriorDescription, DensityGrid Prior, DensityGrid Aggregate,
    double[] CodeX, double[] CodeY, int[] Labels, double[] SdX, double[] SdY, int Ellipses, int AggregateImages,
    double KlAggregateToPrior, double MeanKl);

/// <summary>Computes <see cref="PriorPosteriorPicture"/> for a 2-d VAE (any prior).</summary>
public static class PriorAndPosterior
{
    public const int GridPoints = 161, DefaultEllipses = 200, DefaultAggregateImages = 2000;

    /// <remarks>Gaussian posteriors only: the ellipses and the aggregate's density are the Gaussian's (a flow's posterior
    /// is drawn by the posterior-fit figure instead).</remarks>
    public static bool Applies(Autoencoder model) =>
        model.IsVariational && model.Config.LatentDim == 2 && model.Config.Posterior == Models.Posteriors.PosteriorRegistry.Gaussian;

    public static PriorPosteriorPicture Compute(Autoencoder model, Tensor images, int[] labels, long seed,
        int ellipses = DefaultEllipses, int aggregateImages = DefaultAggregateImages)
    {
        if (!Applies(model)) throw new ArgumentException($"{model.Config.Name}: the picture needs a 2-d VAE", nameof(model));
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int n = (int)Math.Min(aggregateImages, images.shape[0]);
        var q = model.Encode(images.narrow(0, 0, n)) as DiagonalGaussianPosterior
                ?? throw new ArgumentException("the picture needs a Gaussian posterior", nameof(model));
        var mu = q.Mu.to(ScalarType.Float64);
        var sd = (q.LogVar * 0.5).exp().to(ScalarType.Float64);

        // The box: the posterior means and the prior's central 99 %, each widened by a tenth.
        using var rng = new Generator((ulong)seed + 23);
        var draws = model.SamplePrior(20_000, rng).to(ScalarType.Float64);
        var lo = minimum(mu.amin([0]), draws.quantile(tensor(0.005, ScalarType.Float64), dim: 0));
        var hi = maximum(mu.amax([0]), draws.quantile(tensor(0.995, ScalarType.Float64), dim: 0));
        var pad = (hi - lo) * 0.1;
        lo -= pad; hi += pad;
        var (xs, ys, z) = DensityGrid.Mesh(lo[0].item<double>(), hi[0].item<double>(), lo[1].item<double>(), hi[1].item<double>(), GridPoints);

        var logPrior = model.Prior!.LogDensity(z.to(ScalarType.Float32)).to(ScalarType.Float64);
        var logAggregate = MixtureLogDensity(z, mu, sd);

        // KL(q(z) || p(z)) from one draw per image, and the mean per-image KL at the same draws.
        var sample = q.Sample(rng);
        var logQAggregate = MixtureLogDensity(sample.to(ScalarType.Float64), mu, sd);
        var logPSample = model.Prior.LogDensity(sample).to(ScalarType.Float64);
        double aggregateKl = (logQAggregate - logPSample).mean().item<double>();
        double meanKl = Objectives.Kl(q, model.Prior, sample).to(ScalarType.Float64).mean().item<double>();

        int e = Math.Min(ellipses, n);
        return new PriorPosteriorPicture(model.Config.Name, model.Prior.Description,
            DensityGrid.From(xs, ys, logPrior), DensityGrid.From(xs, ys, logAggregate),
            mu.select(1, 0).data<double>().ToArray(), mu.select(1, 1).data<double>().ToArray(), labels[..n],
            sd.select(1, 0).narrow(0, 0, e).data<double>().ToArray(), sd.select(1, 1).narrow(0, 0, e).data<double>().ToArray(),
            e, n, aggregateKl, meanKl);
    }

    /// <summary>log (1/N) sum_n N(z; mu_n, diag(sd_n^2)) for points z [P, 2]: [P], in chunks of points.</summary>
    static Tensor MixtureLogDensity(Tensor z, Tensor mu, Tensor sd)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        var logSd = sd.log().sum([1]);                                                           // [N]
        for (long first = 0; first < z.shape[0]; first += 512)
        {
            var chunk = z.narrow(0, first, Math.Min(512, z.shape[0] - first)).unsqueeze(1);      // [c, 1, 2]
            var perImage = -0.5 * ((chunk - mu) / sd).square().sum([2]) - logSd - Math.Log(2 * Math.PI);   // [c, N]
            parts.Add(perImage.logsumexp(1) - Math.Log(mu.shape[0]));
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
