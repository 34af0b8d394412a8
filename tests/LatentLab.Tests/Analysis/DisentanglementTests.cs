using LatentLab.Analysis.Disentanglement;
using Xunit.Abstractions;

namespace LatentLab.Tests.Analysis;

/// <summary>The scores on constructed codes whose answers are known: codes that are the factors, the same codes rotated,
/// codes independent of the factors.</summary>
public class DisentanglementTests(ITestOutputHelper output)
{
    static readonly int[] Sizes = [3, 6, 8, 10];
    const int N = 10_000;

    /// <summary>Four uniform factors of 3, 6, 8 and 10 values; codes: each factor's value, then one N(0, 1) dimension
    /// that knows nothing (the irrelevant one).</summary>
    static FactorCodes FactorsAsCodes(int seed)
    {
        var random = new Random(seed);
        var factors = new int[N, Sizes.Length];
        var codes = new double[N, Sizes.Length + 1];
        for (int i = 0; i < N; i++)
        {
            for (int k = 0; k < Sizes.Length; k++) codes[i, k] = factors[i, k] = random.Next(Sizes[k]);
            codes[i, Sizes.Length] = Gaussian(random);
        }
        return new FactorCodes(codes, factors, ["a", "b", "c", "d"]);
    }

    static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void MutualInformationIsTheEntropyForAVariableWithItselfAndZeroForIndependentOnes()
    {
        // Uniform over 4 values: H = ln 4. Two independent fair bits in a balanced table: I = 0 exactly.
        Assert.Equal(Math.Log(4), Disentanglement.MutualInformation([0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 2, 3, 0, 1, 2, 3]), 12);
        Assert.Equal(0, Disentanglement.MutualInformation([0, 0, 1, 1], [0, 1, 0, 1]), 12);
        // b a function of a, a uniform over 4: I = H(b) = ln 2.
        Assert.Equal(Math.Log(2), Disentanglement.MutualInformation([0, 1, 2, 3], [0, 0, 1, 1]), 12);
    }

    [Fact]
    public void CodesThatAreTheFactorsScoreNearOne()
    {
        var pool = FactorsAsCodes(1);
        var scores = Disentanglement.Compute(pool, seed: 0);
        output.WriteLine($"MIG {scores.Mig:F4}, SAP {scores.Sap:F4}, DCI {scores.DciDisentanglement:F4} / {scores.DciCompleteness:F4} / {scores.DciInformativeness:F4}, beta-VAE {scores.BetaVaeScore:P2}, FactorVAE {scores.FactorVaeScore:P2}");
        // Each factor's own dimension holds all of its information (its values fall in distinct bins); the noise
        // dimension's estimated information is the plug-in estimator's bias, about (bins - 1)(values - 1) / 2N nats:
        // under 0.01 of the smallest entropy here (ln 3).
        Assert.True(scores.Mig > 0.98, $"MIG {scores.Mig}");
        Assert.True(scores.DciDisentanglement > 0.9, $"DCI disentanglement {scores.DciDisentanglement}");
        Assert.True(scores.DciCompleteness > 0.9, $"DCI completeness {scores.DciCompleteness}");
        Assert.True(scores.BetaVaeScore > 0.99, $"beta-VAE score {scores.BetaVaeScore}");
        Assert.True(scores.FactorVaeScore > 0.99, $"FactorVAE score {scores.FactorVaeScore}");
        // SAP: the own dimension predicts its factor exactly, every other one at chance (1 / values).
        double expectedSap = Sizes.Average(v => 1 - 1.0 / v);
        Assert.True(Math.Abs(scores.Sap - expectedSap) < 0.03, $"SAP {scores.Sap} against {expectedSap}");
        // The same codes, factors and seed: the same scores.
        var again = Disentanglement.Compute(pool, seed: 0);
        Assert.Equal(scores.BetaVaeScore, again.BetaVaeScore);
        Assert.Equal(scores.FactorVaeScore, again.FactorVaeScore);
        Assert.Equal(scores.DciInformativeness, again.DciInformativeness);
    }

    [Fact]
    public void ARandomRotationOfThoseCodesHasNoGap()
    {
        var pool = FactorsAsCodes(2);
        int n = pool.Count, d = pool.Dimensions;
        // Standardise, so no factor dominates a mix by its scale, then rotate by a random orthogonal matrix (Gram-Schmidt).
        var random = new Random(3);
        var q = new double[d, d];
        for (int r = 0; r < d; r++)
        {
            var v = Enumerable.Range(0, d).Select(_ => Gaussian(random)).ToArray();
            for (int p = 0; p < r; p++)
            {
                double dot = Enumerable.Range(0, d).Sum(j => v[j] * q[p, j]);
                for (int j = 0; j < d; j++) v[j] -= dot * q[p, j];
            }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            for (int j = 0; j < d; j++) q[r, j] = v[j] / norm;
        }
        var means = Enumerable.Range(0, d).Select(j => Enumerable.Range(0, n).Average(i => pool.Codes[i, j])).ToArray();
        var sds = Enumerable.Range(0, d).Select(j => Math.Sqrt(Enumerable.Range(0, n).Average(i => Math.Pow(pool.Codes[i, j] - means[j], 2)))).ToArray();
        var rotated = new double[n, d];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < d; r++)
                for (int j = 0; j < d; j++) rotated[i, r] += q[r, j] * (pool.Codes[i, j] - means[j]) / sds[j];
        var scores = Disentanglement.Compute(pool with { Codes = rotated }, seed: 0);
        output.WriteLine($"rotated: MIG {scores.Mig:F4}, DCI disentanglement {scores.DciDisentanglement:F4}, informativeness {scores.DciInformativeness:F4}");
        // Every dimension now mixes every factor, so for each factor the best dimension's share of its information is
        // close to the second best's: the gap left is how unevenly one rotation happens to spread a factor over 5
        // dimensions (0.12 for this one), not a dimension that stands for the factor. A quarter of the unrotated codes'
        // MIG (above 0.98) separates the two; the codes stay fully informative (linear classifiers undo a rotation).
        Assert.True(scores.Mig < 0.25, $"MIG {scores.Mig}");
        Assert.True(scores.DciInformativeness > 0.95, $"informativeness {scores.DciInformativeness}");
    }

    [Fact]
    public void CodesIndependentOfTheFactorsInformAtChance()
    {
        var pool = FactorsAsCodes(4);
        var random = new Random(5);
        var noise = new double[pool.Count, 5];
        for (int i = 0; i < pool.Count; i++)
            for (int j = 0; j < 5; j++) noise[i, j] = Gaussian(random);
        var (train, test) = (pool with { Codes = noise }).Split(8000);
        var (_, _, informativeness) = Disentanglement.Dci(train, test);
        // Chance: the accuracy of a guess, 1 / values for uniform factors, averaged over the factors; the test split's
        // 2,000 images give each factor's accuracy a standard error of sqrt(p (1 - p) / 2000), the average's the root
        // of the mean of their squares over 4. Five of those either way; a fit that found a pattern would sit far above.
        double chance = Sizes.Average(v => 1.0 / v);
        double se = Math.Sqrt(Sizes.Sum(v => (1.0 / v) * (1 - 1.0 / v) / 2000)) / Sizes.Length;
        output.WriteLine($"informativeness {informativeness:F4}, chance {chance:F4} ± {se:F4}");
        Assert.True(Math.Abs(informativeness - chance) < 5 * se, $"informativeness {informativeness} against chance {chance} ± {se}");
    }
}
