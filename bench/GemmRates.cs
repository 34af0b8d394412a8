using System.Diagnostics;
using static TorchSharp.torch;

/// <summary>`--gemm`: libtorch's product rate in float32 and bfloat16 for vae_32d's largest layer (batch 128, 784 by
/// 512), in the three orientations a training step uses, plus linear() with its bias: which forms reach the CPU's
/// bfloat16 rate.</summary>
static class GemmRates
{
    public static void Print()
    {
        foreach (var type in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            var x = rand(128, 784, dtype: type);
            var w = rand(512, 784, dtype: type);
            var b = rand(512, dtype: type);
            var g = rand(128, 512, dtype: type);
            var wt = w.t().contiguous();
            var gt = g.t().contiguous();
            double flop = 2.0 * 128 * 784 * 512;
            Time($"{type} x.mm(w.t())       forward", () => x.mm(w.t()), flop);
            Time($"{type} x.mm(w^T stored)  forward", () => x.mm(wt), flop);
            Time($"{type} linear(x, w, b)   forward", () => nn.functional.linear(x, w, b), flop);
            Time($"{type} g.t().mm(x)       weight gradient", () => g.t().mm(x), flop);
            Time($"{type} (g^T stored).mm(x) weight gradient", () => gt.mm(x), flop);
            Time($"{type} g.mm(w)           input gradient", () => g.mm(w), flop);
        }
    }

    static void Time(string label, Func<Tensor> product, double flop)
    {
        for (int i = 0; i < 20; i++) product().Dispose();
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 100; i++) product().Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds / 100);
        }
        Console.WriteLine($"{label,-45} {flop / best / 1e9,7:F1} GFLOP/s");
    }
}
