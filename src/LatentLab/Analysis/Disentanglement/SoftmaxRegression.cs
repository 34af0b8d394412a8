using static TorchSharp.torch;

namespace LatentLab.Analysis.Disentanglement;

/// <summary>Multinomial logistic regression with an L2 penalty on standardised inputs: the classifier of the β-VAE score
/// (Higgins et al. 2017 use a linear classifier; disentanglement_lib, sklearn's LogisticRegression) and of DCI here.</summary>
/// <remarks>Full-batch Adam in float64 for a fixed number of steps from zero weights, so a fit is a function of its
/// inputs alone. The penalty is sklearn's default, C = 1: (1 / 2N) |W|^2 added to the mean cross-entropy.</remarks>
public sealed class SoftmaxRegression
{
    readonly double[] mean, scale;
    readonly double[,] weights;   // [classes, d], on standardised inputs
    readonly double[] bias;

    SoftmaxRegression(double[] mean, double[] scale, double[,] weights, double[] bias)
    {
        this.mean = mean;
        this.scale = scale;
        this.weights = weights;
        this.bias = bias;
    }

    public int Classes => bias.Length;

    /// <summary>|W| averaged over classes for each input: how much the fit leans on it (DCI's importance).</summary>
    public double[] Importance()
    {
        int d = mean.Length;
        var importance = new double[d];
        for (int j = 0; j < d; j++)
        {
            for (int c = 0; c < Classes; c++) importance[j] += Math.Abs(weights[c, j]);
            importance[j] /= Classes;
        }
        return importance;
    }

    public static SoftmaxRegression Fit(double[,] x, int[] y, int classes, int steps = 400)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var (mean, scale) = Standardisation(x);
        using var scope = NewDisposeScope();
        // Callers may be inside an evaluation's no_grad.
        using var grad = enable_grad();
        var inputs = Standardised(x, mean, scale);
        var labels = tensor(y.Select(v => (long)v).ToArray(), [n]);
        var w = nn.Parameter(zeros([classes, d], dtype: ScalarType.Float64));
        var b = nn.Parameter(zeros([classes], dtype: ScalarType.Float64));
        var optimizer = optim.Adam([w, b], lr: 0.05);
        double penalty = 0.5 / n;
        for (int step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = inputs.mm(w.t()) + b;
            var loss = nn.functional.cross_entropy(logits, labels) + penalty * w.square().sum();
            loss.backward();
            optimizer.step();
        }
        var weights = new double[classes, d];
        var flat = w.detach().data<double>().ToArray();
        for (int c = 0; c < classes; c++)
            for (int j = 0; j < d; j++) weights[c, j] = flat[c * d + j];
        return new SoftmaxRegression(mean, scale, weights, b.detach().data<double>().ToArray());
    }

    public int[] Predict(double[,] x)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            double bestLogit = double.NegativeInfinity;
            for (int c = 0; c < Classes; c++)
            {
                double logit = bias[c];
                for (int j = 0; j < d; j++) logit += weights[c, j] * (x[i, j] - mean[j]) / scale[j];
                if (logit > bestLogit) { bestLogit = logit; best = c; }
            }
            result[i] = best;
        }
        return result;
    }

    public double Accuracy(double[,] x, int[] y)
    {
        var predicted = Predict(x);
        return predicted.Where((p, i) => p == y[i]).Count() / (double)y.Length;
    }

    static (double[] Mean, double[] Scale) Standardisation(double[,] x)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var mean = new double[d];
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < n; i++) sum += x[i, j];
            mean[j] = sum / n;
            for (int i = 0; i < n; i++) squares += (x[i, j] - mean[j]) * (x[i, j] - mean[j]);
            double sd = Math.Sqrt(squares / n);
            // A constant input stays 0 after standardising instead of dividing by zero.
            scale[j] = sd > 1e-12 ? sd : 1;
        }
        return (mean, scale);
    }

    static Tensor Standardised(double[,] x, double[] mean, double[] scale)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var values = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) values[i * d + j] = (x[i, j] - mean[j]) / scale[j];
        return tensor(values, [n, d]);
    }
}
