using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Analysis;

/// <summary>How far a model's codes are from the standard normal prior: the Gaussian with the mean and full covariance
/// of the aggregate codes, and its KL divergence from N(0, I) in nats.</summary>
/// <remarks>For a VAE the codes are one draw of z ~ q(z|x) per image (the aggregate posterior, which sampling from
/// the prior relies on matching); for an AE they are its deterministic codes. 0 means the moment-matched Gaussian
/// is N(0, I) itself; it grows with any shift, scaling, correlation or collapse of the codes.</remarks>
public static class PriorGap
{
    public static double Measure(Autoencoder model, Tensor images, long seed)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.eval();
        using var rng = new Generator((ulong)seed + 17);
        var parts = new List<Tensor>();
        for (long first = 0; first < images.shape[0]; first += 1000)
        {
            var batch = images.narrow(0, first, Math.Min(1000, images.shape[0] - first));
            // A VAE's one draw of z ~ q(z|x) per image; an AE's point mass is its code.
            parts.Add(model.Encode(batch).Sample(rng));
        }
        return KlFromStandardNormal(cat(parts, 0));
    }

    /// <summary>KL(N(m, S) || N(0, I)) = (tr S + m'm - d - ln det S) / 2 for the mean m and covariance S of <paramref name="points"/>.</summary>
    public static double KlFromStandardNormal(Tensor points)
    {
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        long n = x.shape[0], d = x.shape[1];
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().mm(centred) / (n - 1);
        var logDet = linalg.slogdet(covariance).Item2.item<double>();
        return 0.5 * (covariance.trace().item<double>() + mean.dot(mean).item<double>() - d - logDet);
    }
}
