using static TorchSharp.torch;

namespace LatentLab.Evaluation;

/// <summary>How much class information a latent space keeps: accuracy of simple classifiers trained on training
/// latents and scored on test latents.</summary>
public static class LatentProbes
{
    /// <summary>Accuracy of k-nearest-neighbour voting (Euclidean; a tie goes to the smallest label, as in
    /// scikit-learn's KNeighborsClassifier with uniform weights).</summary>
    /// <remarks>Test points go in chunks of 16: each chunk's distances to 60,000 training points fit in 4 MB, which
    /// malloc reuses; chunks of thousands need fresh pages every time, and the page faults cost more than the maths.</remarks>
    public static double KnnAccuracy(Tensor trainZ, Tensor trainLabels, Tensor testZ, Tensor testLabels, int k = 5, int chunk = 16)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var train = trainZ.to(ScalarType.Float32);
        var trainNorms = train.square().sum([1]);
        int classes = (int)Math.Max(trainLabels.max().item<long>(), testLabels.max().item<long>()) + 1;
        long correct = 0, n = testZ.shape[0];
        for (long first = 0; first < n; first += chunk)
        {
            using var chunkScope = NewDisposeScope();
            long size = Math.Min(chunk, n - first);
            var test = testZ.narrow(0, first, size).to(ScalarType.Float32);
            // |a - b|^2 = |a|^2 - 2 a.b + |b|^2; |a|^2 is the same for every candidate, so the ranking needs only
            // |b|^2 - 2 a.b: one fused matrix product per chunk.
            var distances = addmm(trainNorms.expand(size, -1), test, train.t(), beta: 1, alpha: -2);
            var nearest = distances.topk(k, dim: 1, largest: false).indexes;
            var votes = nn.functional.one_hot(trainLabels[nearest], classes).sum([1]);
            var predicted = votes.argmax(1);
            correct += predicted.eq(testLabels.narrow(0, first, size)).sum().item<long>();
        }
        return (double)correct / n;
    }

    /// <summary>Accuracy of multinomial logistic regression on standardised latents, with scikit-learn's
    /// objective for C = 1: mean cross-entropy + |W|^2 / (2 C n), the intercept unpenalised.</summary>
    /// <remarks>The problem is convex and, on standardised inputs, well conditioned: full-batch L-BFGS (<see cref="Lbfgs"/>)
    /// reaches its optimum, stopping, as scikit-learn does, when no gradient component exceeds 1e-4. Our own L-BFGS rather
    /// than TorchSharp's optim.LBFGS, whose native step calls libtorch's deprecated Optimizer::parameters() and prints a
    /// warning on stderr.</remarks>
    public static double LinearProbeAccuracy(Tensor trainZ, Tensor trainLabels, Tensor testZ, Tensor testLabels, double c = 1.0)
    {
        using var scope = NewDisposeScope();
        var train = trainZ.to(ScalarType.Float64);
        var mean = train.mean([0]);
        var std = train.std(0, unbiased: false);
        std = where(std > 0, std, ones_like(std));
        var x = (train - mean) / std;
        var xTest = (testZ.to(ScalarType.Float64) - mean) / std;
        int classes = (int)Math.Max(trainLabels.max().item<long>(), testLabels.max().item<long>()) + 1;
        long n = x.shape[0], d = x.shape[1];
        var targets = nn.functional.one_hot(trainLabels, classes).to(ScalarType.Float64);

        // theta = [W (d x classes, row-major), b (classes)]; the objective and its gradient in closed form.
        (double Loss, Tensor Gradient) Objective(Tensor theta)
        {
            using var evaluation = NewDisposeScope();
            var w = theta.narrow(0, 0, d * classes).view(d, classes);
            var b = theta.narrow(0, d * classes, classes);
            var logits = x.matmul(w) + b;
            var logProbabilities = logits.log_softmax(1);
            double loss = -(logProbabilities * targets).sum().item<double>() / n + w.square().sum().item<double>() / (2 * c * n);
            var residual = (logProbabilities.exp() - targets) / n;
            var gradient = cat([(x.t().matmul(residual) + w / (c * n)).flatten(), residual.sum([0])]);
            return (loss, gradient.MoveToOuterDisposeScope());
        }
        var solution = Lbfgs(Objective, zeros(d * classes + classes, dtype: ScalarType.Float64), maxIterations: 300, gradientTolerance: 1e-4);

        var weights = solution.narrow(0, 0, d * classes).view(d, classes);
        var bias = solution.narrow(0, d * classes, classes);
        var predicted = (xTest.matmul(weights) + bias).argmax(1);
        return predicted.eq(testLabels).sum().item<long>() / (double)testLabels.shape[0];
    }

    /// <summary>Minimises a smooth function of a vector by L-BFGS (Nocedal &amp; Wright 2006, algorithm 7.4: the two-loop
    /// recursion over the last <paramref name="history"/> steps) with a backtracking line search on the Armijo condition.
    /// Stops when no gradient component exceeds <paramref name="gradientTolerance"/>, or the loss stops changing.</summary>
    public static Tensor Lbfgs(Func<Tensor, (double Loss, Tensor Gradient)> objective, Tensor start, int maxIterations,
        double gradientTolerance, int history = 20)
    {
        using var scope = NewDisposeScope();
        var theta = start.clone();
        var (loss, gradient) = objective(theta);
        var steps = new List<(Tensor S, Tensor Y, double Rho)>();
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            if (gradient.abs().max().item<double>() <= gradientTolerance) break;
            using var iterationScope = NewDisposeScope();
            // Two-loop recursion: direction = -H gradient, H the inverse-Hessian estimate from the stored steps.
            var q = gradient.clone();
            var alphas = new double[steps.Count];
            for (int i = steps.Count - 1; i >= 0; i--)
            {
                alphas[i] = steps[i].Rho * steps[i].S.dot(q).item<double>();
                q.sub_(steps[i].Y * alphas[i]);
            }
            if (steps.Count > 0)
            {
                var (s, y, _) = steps[^1];
                q.mul_(s.dot(y).item<double>() / y.dot(y).item<double>());
            }
            for (int i = 0; i < steps.Count; i++)
            {
                double beta = steps[i].Rho * steps[i].Y.dot(q).item<double>();
                q.add_(steps[i].S * (alphas[i] - beta));
            }
            var direction = -q;
            double slope = gradient.dot(direction).item<double>();
            if (slope >= 0) { direction = -gradient; slope = -gradient.dot(gradient).item<double>(); steps.Clear(); }

            // The first step is scaled as PyTorch's and SciPy's are: at most unit length in the L1 norm.
            double step = steps.Count == 0 ? Math.Min(1, 1 / gradient.abs().sum().item<double>()) : 1;
            Tensor candidate;
            double candidateLoss;
            Tensor candidateGradient;
            while (true)
            {
                candidate = theta + direction * step;
                (candidateLoss, candidateGradient) = objective(candidate);
                if (candidateLoss <= loss + 1e-4 * step * slope || step < 1e-12) break;
                step *= 0.5;
            }
            var sNew = (candidate - theta).MoveToOuterDisposeScope();
            var yNew = (candidateGradient - gradient).MoveToOuterDisposeScope();
            double sy = sNew.dot(yNew).item<double>();
            bool converged = Math.Abs(candidateLoss - loss) <= 1e-12 * Math.Max(1, Math.Abs(loss));
            theta = candidate.MoveToOuterDisposeScope();
            gradient = candidateGradient.MoveToOuterDisposeScope();
            loss = candidateLoss;
            if (sy > 1e-12)
            {
                steps.Add((sNew, yNew, 1 / sy));
                if (steps.Count > history) steps.RemoveAt(0);
            }
            if (converged) break;
        }
        return theta.MoveToOuterDisposeScope();
    }
}
