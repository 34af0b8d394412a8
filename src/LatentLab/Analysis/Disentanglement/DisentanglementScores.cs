namespace LatentLab.Analysis.Disentanglement;

/// <summary>The disentanglement scores of one model's codes on data with known factors, as metrics.json keeps them.</summary>
/// <param name="MutualInformation">[d, K]: I(code j; factor k) / H(factor k), the normalised mutual information that MIG
/// reads and the heat map draws.</param>
public sealed record DisentanglementScores(
    double Mig, double Sap, double DciDisentanglement, double DciCompleteness, double DciInformativeness,
    double BetaVaeScore, double FactorVaeScore, double[,] MutualInformation, IReadOnlyList<string> FactorNames);

/// <summary>MIG, SAP, DCI, the β-VAE score and the FactorVAE score, each as its paper and Google's disentanglement_lib
/// (Locatello et al. 2019) define it, with the estimator choices stated on each. Seeded: the same codes, factors and seed
/// give the same scores.</summary>
public static class Disentanglement
{
    /// <summary>Equal-width bins per code dimension for the mutual information (disentanglement_lib's 20).</summary>
    public const int Bins = 20;

    /// <summary>All five, on a pool of codes put in a seeded random order: SAP and DCI fit on its first 80 % and score on
    /// the rest; the β-VAE and FactorVAE scores draw their groups from the whole pool.</summary>
    public static DisentanglementScores Compute(FactorCodes pool, long seed)
    {
        pool = pool.Shuffled(seed);
        var (train, test) = pool.Split(pool.Count * 4 / 5);
        var mi = NormalisedMutualInformation(pool);
        var (disentanglement, completeness, informativeness) = Dci(train, test);
        return new DisentanglementScores(Mig(mi), Sap(train, test), disentanglement, completeness, informativeness,
            BetaVaeScore(pool, seed), FactorVaeScore(pool, seed), mi, pool.FactorNames);
    }

    /// <summary>Each code dimension cut into <see cref="Bins"/> equal-width bins between its smallest and largest value
    /// (disentanglement_lib's histogram discretisation).</summary>
    public static int[,] DiscretizeCodes(double[,] codes, int bins = Bins)
    {
        int n = codes.GetLength(0), d = codes.GetLength(1);
        var result = new int[n, d];
        for (int j = 0; j < d; j++)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity;
            for (int i = 0; i < n; i++) { min = Math.Min(min, codes[i, j]); max = Math.Max(max, codes[i, j]); }
            double width = (max - min) / bins;
            for (int i = 0; i < n; i++)
                result[i, j] = width > 0 ? Math.Min(bins - 1, (int)((codes[i, j] - min) / width)) : 0;
        }
        return result;
    }

    /// <summary>I(a; b) in nats from the counts of the pairs (a_i, b_i): sklearn's mutual_info_score.</summary>
    public static double MutualInformation(int[] a, int[] b)
    {
        int n = a.Length, na = a.Max() + 1, nb = b.Max() + 1;
        var joint = new double[na, nb];
        var pa = new double[na];
        var pb = new double[nb];
        for (int i = 0; i < n; i++) { joint[a[i], b[i]]++; pa[a[i]]++; pb[b[i]]++; }
        double mi = 0;
        for (int x = 0; x < na; x++)
            for (int y = 0; y < nb; y++)
                if (joint[x, y] > 0) mi += joint[x, y] / n * Math.Log(joint[x, y] * n / (pa[x] * pb[y]));
        return Math.Max(0, mi);
    }

    /// <summary>[d, K]: I(code j; factor k) / H(factor k), codes discretised into <see cref="Bins"/> bins.</summary>
    public static double[,] NormalisedMutualInformation(FactorCodes pool)
    {
        var codes = DiscretizeCodes(pool.Codes);
        int d = pool.Dimensions, k = pool.FactorCount;
        var result = new double[d, k];
        for (int f = 0; f < k; f++)
        {
            var factor = Column(pool.Factors, f);
            double entropy = MutualInformation(factor, factor);
            for (int j = 0; j < d; j++)
                result[j, f] = entropy > 0 ? MutualInformation(Column(codes, j), factor) / entropy : 0;
        }
        return result;
    }

    /// <summary>The mutual information gap (Chen et al. 2018): for each factor, the normalised information of the code
    /// dimension that knows most about it minus the second's, averaged over the factors.</summary>
    public static double Mig(double[,] normalisedMi)
    {
        int d = normalisedMi.GetLength(0), k = normalisedMi.GetLength(1);
        double sum = 0;
        for (int f = 0; f < k; f++)
        {
            var sorted = Enumerable.Range(0, d).Select(j => normalisedMi[j, f]).OrderByDescending(v => v).ToArray();
            sum += sorted[0] - (d > 1 ? sorted[1] : 0);
        }
        return sum / k;
    }

    /// <summary>The separated attribute predictability (Kumar et al. 2018), for discrete factors as disentanglement_lib
    /// scores them: a classifier of each factor from each code dimension alone, its test accuracy; per factor the best
    /// dimension's minus the second's, averaged. The classifier here is the majority class of each of 20 equal-width
    /// bins of the dimension (fitted on the training codes) where disentanglement_lib fits a linear SVM: for one input
    /// both cut the line into intervals, the bins without an optimiser.</summary>
    public static double Sap(FactorCodes train, FactorCodes test)
    {
        int d = train.Dimensions, k = train.FactorCount;
        var trainCodes = Enumerable.Range(0, d).Select(j => Column(train.Codes, j)).ToArray();
        var testCodes = Enumerable.Range(0, d).Select(j => Column(test.Codes, j)).ToArray();
        double sum = 0;
        for (int f = 0; f < k; f++)
        {
            int values = Math.Max(train.Values(f), test.Values(f));
            int[] trainFactor = Column(train.Factors, f), testFactor = Column(test.Factors, f);
            var accuracy = new double[d];
            for (int j = 0; j < d; j++) accuracy[j] = BinClassifierAccuracy(trainCodes[j], trainFactor, testCodes[j], testFactor, values);
            var sorted = accuracy.OrderByDescending(v => v).ToArray();
            sum += sorted[0] - (d > 1 ? sorted[1] : 0);
        }
        return sum / k;
    }

    static double BinClassifierAccuracy(double[] trainX, int[] trainY, double[] testX, int[] testY, int classes)
    {
        double min = trainX.Min(), max = trainX.Max(), width = (max - min) / Bins;
        int Bin(double v) => width > 0 ? Math.Clamp((int)((v - min) / width), 0, Bins - 1) : 0;
        var counts = new int[Bins, classes];
        var overall = new int[classes];
        for (int i = 0; i < trainX.Length; i++) { counts[Bin(trainX[i]), trainY[i]]++; overall[trainY[i]]++; }
        int fallback = Array.IndexOf(overall, overall.Max());
        var label = new int[Bins];
        for (int b = 0; b < Bins; b++)
        {
            int best = fallback, most = 0;
            for (int c = 0; c < classes; c++) if (counts[b, c] > most) { most = counts[b, c]; best = c; }
            label[b] = best;
        }
        int right = 0;
        for (int i = 0; i < testX.Length; i++) if (label[Bin(testX[i])] == testY[i]) right++;
        return right / (double)testX.Length;
    }

    /// <summary>DCI (Eastwood &amp; Williams 2018): a classifier of each factor from the whole code gives an importance
    /// of each dimension for it, R [d, K]. Disentanglement: 1 - the entropy (base K) of each dimension's importances
    /// across factors, weighted by the dimension's share of all importance; completeness: 1 - the entropy (base d) of each
    /// factor's importances across dimensions, weighted likewise; informativeness: the classifiers' test accuracy,
    /// averaged. The classifier is <see cref="SoftmaxRegression"/> on standardised codes, importance its mean |weight|
    /// (the paper's lasso is linear too; disentanglement_lib uses gradient-boosted trees).</summary>
    public static (double Disentanglement, double Completeness, double Informativeness) Dci(FactorCodes train, FactorCodes test)
    {
        int d = train.Dimensions, k = train.FactorCount;
        var importance = new double[d, k];
        double informativeness = 0;
        for (int f = 0; f < k; f++)
        {
            var y = Column(train.Factors, f);
            var classifier = SoftmaxRegression.Fit(train.Codes, y, Math.Max(train.Values(f), test.Values(f)));
            var r = classifier.Importance();
            for (int j = 0; j < d; j++) importance[j, f] = r[j];
            informativeness += classifier.Accuracy(test.Codes, Column(test.Factors, f));
        }
        double total = 0;
        foreach (var v in importance) total += v;
        double disentanglement = 0, completeness = 0;
        for (int j = 0; j < d; j++)
        {
            var row = Enumerable.Range(0, k).Select(f => importance[j, f]).ToArray();
            disentanglement += (1 - Entropy(row, k)) * row.Sum() / total;
        }
        for (int f = 0; f < k; f++)
        {
            var column = Enumerable.Range(0, d).Select(j => importance[j, f]).ToArray();
            completeness += (1 - Entropy(column, d)) * column.Sum() / total;
        }
        return (disentanglement, completeness, informativeness / k);
    }

    /// <summary>The entropy of the distribution proportional to <paramref name="weights"/>, in base <paramref name="b"/>
    /// (so 1 for the uniform one); 0 for one outcome.</summary>
    static double Entropy(double[] weights, int b)
    {
        if (b < 2) return 0;
        double sum = weights.Sum() + 1e-11 * weights.Length;
        double h = 0;
        foreach (var w in weights)
        {
            double p = (w + 1e-11) / sum;
            h -= p * Math.Log(p);
        }
        return h / Math.Log(b);
    }

    /// <summary>Groups of codes sharing one factor, drawn from the pool: pick the factor k uniformly, a value from an
    /// image drawn uniformly (so values come as often as the data has them), then images with
    /// that value, with replacement. disentanglement_lib renders such groups from the generator; a pool of the data
    /// stands in for it here, so a folder with factors is scored the same way.</summary>
    sealed class Groups(FactorCodes pool, long seed)
    {
        readonly Random random = new((int)(seed & 0x7fffffff));
        readonly Dictionary<(int Factor, int Value), int[]> members = Members(pool);

        static Dictionary<(int, int), int[]> Members(FactorCodes pool)
        {
            var lists = new Dictionary<(int, int), List<int>>();
            for (int i = 0; i < pool.Count; i++)
                for (int f = 0; f < pool.FactorCount; f++)
                {
                    var key = (f, pool.Factors[i, f]);
                    if (!lists.TryGetValue(key, out var list)) lists[key] = list = [];
                    list.Add(i);
                }
            return lists.ToDictionary(p => p.Key, p => p.Value.ToArray());
        }

        public int Factor() => random.Next(pool.FactorCount);

        /// <summary><paramref name="size"/> image indices that share factor <paramref name="factor"/>'s value.</summary>
        public int[] Sharing(int factor, int size)
        {
            var same = members[(factor, pool.Factors[random.Next(pool.Count), factor])];
            return [.. Enumerable.Range(0, size).Select(_ => same[random.Next(same.Length)])];
        }

        public int Any() => random.Next(pool.Count);

        /// <summary>An image drawn uniformly from those whose factor <paramref name="factor"/> has image
        /// <paramref name="of"/>'s value.</summary>
        public int Partner(int factor, int of)
        {
            var same = members[(factor, pool.Factors[of, factor])];
            return same[random.Next(same.Length)];
        }
    }

    /// <summary>The β-VAE score (Higgins et al. 2017): a point is a factor k and the mean over <paramref name="batch"/>
    /// pairs of |z_a - z_b|, each pair sharing k's value (a value of its own per pair); a linear classifier (<see cref="SoftmaxRegression"/>) learns k
    /// from <paramref name="trainPoints"/> points, the score is its accuracy on <paramref name="evalPoints"/> others.
    /// disentanglement_lib's choices: 64 pairs, 10,000 and 5,000 points.</summary>
    public static double BetaVaeScore(FactorCodes pool, long seed, int batch = 64, int trainPoints = 10_000, int evalPoints = 5_000)
    {
        var groups = new Groups(pool, seed);
        (double[,] X, int[] Y) Points(int count)
        {
            int d = pool.Dimensions;
            var x = new double[count, d];
            var y = new int[count];
            for (int p = 0; p < count; p++)
            {
                int factor = groups.Factor();
                for (int i = 0; i < batch; i++)
                {
                    // Each pair its own value of the factor: a drawn at random, b from the images sharing a's value.
                    int a = groups.Any(), b = groups.Partner(factor, a);
                    for (int j = 0; j < d; j++) x[p, j] += Math.Abs(pool.Codes[a, j] - pool.Codes[b, j]) / batch;
                }
                y[p] = factor;
            }
            return (x, y);
        }
        var (trainX, trainY) = Points(trainPoints);
        var (evalX, evalY) = Points(evalPoints);
        return SoftmaxRegression.Fit(trainX, trainY, pool.FactorCount).Accuracy(evalX, evalY);
    }

    /// <summary>The FactorVAE score (Kim &amp; Mnih 2018): codes divided by their standard deviation over the pool,
    /// dimensions with a standard deviation under 0.05 left out (collapsed); a vote is a factor k and the dimension of
    /// least variance among <paramref name="batch"/> codes sharing k's value; the majority-vote classifier (each dimension
    /// to the factor it most often votes for) is fitted on <paramref name="trainVotes"/> votes and scored on
    /// <paramref name="evalVotes"/> others. disentanglement_lib's choices: 64, 10,000, 5,000.</summary>
    public static double FactorVaeScore(FactorCodes pool, long seed, int batch = 64, int trainVotes = 10_000, int evalVotes = 5_000)
    {
        int d = pool.Dimensions, k = pool.FactorCount;
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            var column = Column(pool.Codes, j);
            double mean = column.Average();
            scale[j] = Math.Sqrt(column.Sum(v => (v - mean) * (v - mean)) / column.Length);
        }
        var active = Enumerable.Range(0, d).Where(j => scale[j] >= 0.05).ToArray();
        if (active.Length == 0) return 0;
        var groups = new Groups(pool, seed);
        int[,] Votes(int count)
        {
            var votes = new int[d, k];
            for (int v = 0; v < count; v++)
            {
                int factor = groups.Factor();
                var members = groups.Sharing(factor, batch);
                int least = active.MinBy(j =>
                {
                    double mean = members.Average(i => pool.Codes[i, j] / scale[j]);
                    return members.Sum(i => Math.Pow(pool.Codes[i, j] / scale[j] - mean, 2)) / (batch - 1);
                });
                votes[least, factor]++;
            }
            return votes;
        }
        var train = Votes(trainVotes);
        var eval = Votes(evalVotes);
        int right = 0, all = 0;
        for (int j = 0; j < d; j++)
        {
            int predicted = Enumerable.Range(0, k).MaxBy(f => train[j, f]);
            for (int f = 0; f < k; f++) { all += eval[j, f]; if (f == predicted) right += eval[j, f]; }
        }
        return right / (double)all;
    }

    static int[] Column(int[,] values, int j) => [.. Enumerable.Range(0, values.GetLength(0)).Select(i => values[i, j])];
    static double[] Column(double[,] values, int j) => [.. Enumerable.Range(0, values.GetLength(0)).Select(i => values[i, j])];
}
