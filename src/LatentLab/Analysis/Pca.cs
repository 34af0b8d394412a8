using static TorchSharp.torch;

namespace LatentLab.Analysis;

/// <summary>Principal component analysis of points [N, d] (float64), by eigendecomposition of their covariance.</summary>
public sealed class Pca : IDisposable
{
    /// <summary>Mean of the fitted points, [d].</summary>
    public Tensor Mean { get; }
    /// <summary>Principal directions as rows, [components, d], by decreasing variance; each row's largest entry
    /// is positive, so the projection does not flip between runs.</summary>
    public Tensor Components { get; }
    /// <summary>Variance along each component.</summary>
    public double[] Variance { get; }
    /// <summary>Share of the total variance along each component.</summary>
    public double[] ExplainedRatio { get; }

    Pca(Tensor mean, Tensor components, double[] variance, double[] ratio) =>
        (Mean, Components, Variance, ExplainedRatio) = (mean, components, variance, ratio);

    public static Pca Fit(Tensor points, int components = 2)
    {
        if (points.dim() != 2 || points.shape[0] < 2) throw new ArgumentException("PCA needs at least two points as rows of a matrix");
        int d = (int)points.shape[1];
        if (components < 1 || components > d) throw new ArgumentOutOfRangeException(nameof(components));
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().mm(centred) / (x.shape[0] - 1);
        var (values, vectors) = linalg.eigh(covariance);            // ascending eigenvalues, vectors as columns
        var order = arange(d - 1, d - 1 - components, -1, dtype: ScalarType.Int64);
        var top = vectors.index_select(1, order).t().contiguous();   // [components, d]
        // Sign convention: the entry of largest magnitude in each direction is positive.
        var largest = top.abs().argmax(1, keepdim: true);
        top = top * top.gather(1, largest).sign();
        var variance = values.index_select(0, order).clamp_min(0).data<double>().ToArray();
        double total = Math.Max(values.clamp_min(0).sum().item<double>(), double.Epsilon);
        return new Pca(mean.MoveToOuterDisposeScope(), top.MoveToOuterDisposeScope(), variance,
            variance.Select(v => v / total).ToArray());
    }

    /// <summary>Coordinates of points [N, d] along the components: [N, components], float64.</summary>
    public Tensor Transform(Tensor points)
    {
        using var scope = NewDisposeScope();
        return (points.to(ScalarType.Float64) - Mean).mm(Components.t()).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Mean.Dispose();
        Components.Dispose();
    }
}
