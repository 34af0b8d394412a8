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
    /// <remarks>The problem is convex and, on standardised inputs, well conditioned: full-batch L-BFGS reaches its optimum,
    /// stopping, as scikit-learn does, when no gradient component exceeds 1e-4.</remarks>
    public static double LinearProbeAccuracy(Tensor trainZ, Tensor trainLabels, Tensor testZ, Tensor testLabels, double c = 1.0)
    {
        using var scope = NewDisposeScope();
        var train = trainZ.to(ScalarType.Float32);
        var mean = train.mean([0]);
        var std = train.std(0, unbiased: false);
        std = where(std > 0, std, ones_like(std));
        var x = (train - mean) / std;
        var xTest = (testZ.to(ScalarType.Float32) - mean) / std;
        int classes = (int)Math.Max(trainLabels.max().item<long>(), testLabels.max().item<long>()) + 1;
        long n = x.shape[0];

        var weights = new TorchSharp.Modules.Parameter(zeros([x.shape[1], classes]));
        var bias = new TorchSharp.Modules.Parameter(zeros([classes]));
        // lr, max_iter, max_eval, tolerance on the gradient (scikit-learn's default tol), on the change, history size
        var optimizer = optim.LBFGS([weights, bias], 1, 300, null, 1e-4, 1e-9, 20);
        Tensor Objective()
        {
            // Up to a few hundred evaluations: each frees its [N, classes] temporaries, keeping only the scalar loss.
            using var evaluation = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(x.matmul(weights) + bias, trainLabels) + weights.square().sum() / (2 * c * n);
            loss.backward();
            return loss.MoveToOuterDisposeScope();
        }
        optimizer.step(Objective);

        using var noGrad = no_grad();
        var predicted = (xTest.matmul(weights) + bias).argmax(1);
        return predicted.eq(testLabels).sum().item<long>() / (double)testLabels.shape[0];
    }
}
