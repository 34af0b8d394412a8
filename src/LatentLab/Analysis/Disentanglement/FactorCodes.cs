namespace LatentLab.Analysis.Disentanglement;

/// <summary>Codes of N images beside the known factors of the same images: what every disentanglement score reads.</summary>
/// <param name="Codes">[N, d]: each image's code (a VAE's posterior mean, an AE's code).</param>
/// <param name="Factors">[N, K]: each image's factor as an index into that factor's sorted distinct values (a position of
/// 32 values is 0..31), so every factor is discrete, as disentanglement_lib treats dSprites' five.</param>
/// <param name="FactorNames">The K factors' names ("shape", "scale", ...).</param>
public sealed record FactorCodes(double[,] Codes, int[,] Factors, IReadOnlyList<string> FactorNames)
{
    public int Count => Codes.GetLength(0);
    public int Dimensions => Codes.GetLength(1);
    public int FactorCount => Factors.GetLength(1);

    /// <summary>The values factor k takes: 1 + its largest index.</summary>
    public int Values(int k)
    {
        int max = 0;
        for (int i = 0; i < Count; i++) max = Math.Max(max, Factors[i, k]);
        return max + 1;
    }

    public double[] Code(int i)
    {
        var row = new double[Dimensions];
        for (int j = 0; j < Dimensions; j++) row[j] = Codes[i, j];
        return row;
    }

    /// <summary>The first <paramref name="count"/> images and the rest: the train/test split of the scores that fit a
    /// classifier (the images are in a random order already, as a seeded pool drawn for scoring is).</summary>
    public (FactorCodes Train, FactorCodes Test) Split(int count) => (Rows(0, count), Rows(count, Count - count));

    FactorCodes Rows(int first, int n)
    {
        var codes = new double[n, Dimensions];
        var factors = new int[n, FactorCount];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < Dimensions; j++) codes[i, j] = Codes[first + i, j];
            for (int k = 0; k < FactorCount; k++) factors[i, k] = Factors[first + i, k];
        }
        return new FactorCodes(codes, factors, FactorNames);
    }

    /// <summary>Codes [N, d] and factor values [N, K] (tensors of any float type) as a pool.</summary>
    public static FactorCodes FromTensors(TorchSharp.torch.Tensor codes, TorchSharp.torch.Tensor factorValues, IReadOnlyList<string> names)
    {
        static double[,] Matrix(TorchSharp.torch.Tensor t)
        {
            using var d = t.to(TorchSharp.torch.ScalarType.Float64).contiguous();
            var flat = d.data<double>().ToArray();
            int n = (int)t.shape[0], m = (int)t.shape[1];
            var result = new double[n, m];
            Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
            return result;
        }
        return new FactorCodes(Matrix(codes), Discretize(Matrix(factorValues)), names);
    }

    /// <summary>The same pool in a seeded random order.</summary>
    public FactorCodes Shuffled(long seed)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        new Random((int)(seed & 0x7fffffff)).Shuffle(order);
        var codes = new double[Count, Dimensions];
        var factors = new int[Count, FactorCount];
        for (int i = 0; i < Count; i++)
        {
            for (int j = 0; j < Dimensions; j++) codes[i, j] = Codes[order[i], j];
            for (int k = 0; k < FactorCount; k++) factors[i, k] = Factors[order[i], k];
        }
        return new FactorCodes(codes, factors, FactorNames);
    }

    /// <summary>Factor values (numbers, any scale) as indices into each factor's sorted distinct values.</summary>
    public static int[,] Discretize(double[,] values)
    {
        int n = values.GetLength(0), k = values.GetLength(1);
        var result = new int[n, k];
        for (int f = 0; f < k; f++)
        {
            var distinct = new SortedSet<double>();
            for (int i = 0; i < n; i++) distinct.Add(values[i, f]);
            var index = distinct.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
            for (int i = 0; i < n; i++) result[i, f] = index[values[i, f]];
        }
        return result;
    }
}
