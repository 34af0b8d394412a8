using LatentLab.Models;
using LatentLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Training;

/// <summary>The hand-written step (<see cref="FusedMlpStep"/>) against the reference it replaces, autograd through
/// <see cref="Autoencoder.Loss"/>: the same model, the same batches, the same generator, so the same noise.</summary>
public class FusedMlpStepTests
{
    static (Autoencoder Model, FlatAdam Adam) Fresh(ModelConfig config, int seed)
    {
        manual_seed(seed);
        var model = Autoencoder.Create(config);
        model.train();
        return (model, new FlatAdam(model.ObjectiveParameters(), 1e-3));
    }

    /// <summary>Model, batch rows and KL weight of the one-step tests: a whole batch of 128, MNIST's last (96) and 5
    /// rows, with the KL weighted as a warm-up or β weighs it.</summary>
    public static TheoryData<string, int, double> OneStepCases => new()
    {
        { "vae_32d", 128, 1.0 }, { "vae_2d", 96, 0.3 }, { "ae_2d", 128, 1.0 }, { "ae_32d", 5, 1.0 }, { "vae_32d", 5, 4.0 },
    };

    /// <summary>One step's loss and every gradient, for batches of 128 (a whole one), 96 (MNIST's last) and 5 rows, with
    /// the KL weighted as a warm-up or β weighs it.
    /// The bound: both paths compute each gradient entry in float32 as chains of sums, 784 terms at most (the products'
    /// dot products, the bias gradients' sums over the batch), in another order. A sum of n float32 terms carries a
    /// relative error of at most n u in the worst case, u = 2^-24, relative to the sum of the terms' magnitudes; over a
    /// tensor of many entries with independent rounding, the norm of the error is near sqrt(n) u of the norm of the
    /// terms. Six layers' backward chain such errors (each layer's input gradient carries the previous one's forward), so
    /// the norm of the difference, relative to the gradient's norm, is at most of order 6 sqrt(784) u = 1e-5, the bound;
    /// measured (Intel Xeon, 2026-12-06): 0.6e-7 to 3.7e-7. A wrong factor anywhere (1/B, the KL's weight, a missing
    /// mask) moves a gradient by percents; the KL's weight times 1.001 in the fused step moved encoder.0's gradient by
    /// 1.6e-5 to 8e-4 of its norm in the three VAE cases (measured), each above the bound.
    /// The loss is a float64 sum here and a float32 one in autograd: 1e-6 relative (float32's 784-term sums, as
    /// RegressionTests argues).</summary>
    [Theory]
    [MemberData(nameof(OneStepCases))]
    public void OneStepGivesAutogradsLossAndGradients(string name, int rows, double klFactor)
    {
        var (loss, expected, gradients) = OneStep(name, rows, klFactor, mixed: false);
        Assert.True(Math.Abs(loss - expected) <= 1e-6 * Math.Abs(expected), $"loss {loss:R}, autograd {expected:R}");
        foreach (var (parameter, got, want) in gradients)
        {
            double norm = want.norm().item<float>(), difference = (got - want).norm().item<float>();
            Assert.True(norm > 0, $"{parameter}: autograd's gradient is zero");
            Assert.True(difference <= 1e-5 * norm, $"{parameter}: |fused - autograd| = {difference:E2}, |autograd| = {norm:E2}");
        }
    }

    /// <summary>One step of each path from the same weights on the same batch (rows 7 onwards of the MNIST slice) and
    /// noise: the fused step's loss, autograd's, and each parameter's gradients (fused, autograd) as float32 copies.</summary>
    static (double Loss, double Expected, List<(string Parameter, Tensor Got, Tensor Want)> Gradients) OneStep(string name, int rows, double klFactor, bool mixed)
    {
        var config = ModelRegistry.Get(name) with { Beta = klFactor };
        var reference = FreshPath(config, 11, mixed);
        var fused = FreshPath(config, 11, mixed);
        using var step = new FusedMlpStep(fused.Computing);
        using var data = Fixtures.MnistSlice();
        using var x = data.TrainImages.narrow(0, 7, rows).contiguous();

        reference.Adam.ZeroGrad();
        double expected;
        using (var rng = new Generator(3))
        {
            var terms = reference.Computing.Loss(x, rng);
            expected = terms.Total.item<float>();
            terms.Total.backward();
        }
        double loss;
        using (var rng = new Generator(3)) loss = step.Step(x, rng, config.Beta);
        var gradients = fused.Computing.named_parameters().Zip(reference.Computing.named_parameters())
            .Select(pair =>
            {
                // The fused step writes the gradients in the computing model's own format.
                Assert.Equal(pair.First.parameter.dtype, pair.First.parameter.grad!.dtype);
                return (pair.First.name, pair.First.parameter.grad!.to(ScalarType.Float32, copy: true).DetachFromDisposeScope(),
                    pair.Second.parameter.grad!.to(ScalarType.Float32, copy: true).DetachFromDisposeScope());
            }).ToList();
        Dispose(reference);
        Dispose(fused);
        return (loss, expected, gradients);
    }

    static void Dispose((Autoencoder Master, Autoencoder Computing, FlatAdam Adam) path)
    {
        if (path.Computing != path.Master) path.Computing.Dispose();
        path.Master.Dispose();
        path.Adam.Dispose();
    }

    /// <summary>20 steps of training, the fused step's weights set to autograd's before each (so each step is compared
    /// from the same weights, along autograd's own course): every step's loss and gradients, with the one-step bounds.</summary>
    [Theory]
    [InlineData("vae_32d")]
    [InlineData("vae_2d")]
    [InlineData("ae_2d")]
    [InlineData("ae_32d")]
    public void EachOfTwentyStepsGivesAutogradsGradients(string name)
    {
        var config = ModelRegistry.Get(name);
        var (reference, referenceAdam) = Fresh(config, 5);
        var (fused, fusedAdam) = Fresh(config, 5);
        using var step = new FusedMlpStep(fused);
        using var data = Fixtures.MnistSlice();
        using var rng = new Generator(9);
        for (int i = 0; i < 20; i++)
        {
            using var scope = NewDisposeScope();
            var x = bernoulli(data.TrainImages.narrow(0, (i * 128) % 512, 64), generator: rng);
            using (no_grad()) foreach (var (a, b) in fused.parameters().Zip(reference.parameters())) a.copy_(b);
            var state = rng.get_state();
            referenceAdam.ZeroGrad();
            var terms = reference.Loss(x, rng);
            double expected = terms.Total.item<float>();
            terms.Total.backward();
            rng.set_state(state);
            double loss = step.Step(x, rng, 1.0);
            Assert.True(Math.Abs(loss - expected) <= 1e-6 * Math.Abs(expected), $"step {i + 1}: loss {loss:R}, autograd {expected:R}");
            foreach (var ((parameter, got), (_, want)) in fused.named_parameters().Zip(reference.named_parameters()))
            {
                double norm = want.grad!.norm().item<float>(), difference = (got.grad! - want.grad!).norm().item<float>();
                Assert.True(difference <= 1e-5 * norm, $"step {i + 1}, {parameter}: |fused - autograd| = {difference:E2}, |autograd| = {norm:E2}");
            }
            referenceAdam.Step();
            fusedAdam.Step();
        }
        reference.Dispose(); referenceAdam.Dispose(); fused.Dispose(); fusedAdam.Dispose();
    }

    /// <summary>20 Adam steps by each path on its own (the same batches, binarized by the same generator, as --binarize
    /// does), and the weights they reach: the displacement from the initial weights, tensor by tensor, agrees within 1e-3 of
    /// itself. Measured on an Intel Xeon (2026-12-06): at most 3e-5 for these three presets. The steps' gradients differ
    /// by float32 rounding (the test above: about 2e-7 of their norm); Adam divides each by its running magnitude, so an
    /// entry near zero, whose sign rounding decides, moves its weight by up to the learning rate either way, and the
    /// weights drift apart by more than the gradients do. Not ae_2d: with a code of two numbers, a rounding-sized
    /// difference in one step's weights moves the next steps' codes, and its free runs drift apart by percents over 20
    /// steps (1 % of encoder.0's displacement measured) although every one of its steps agrees as the test above holds.
    /// A wrong gradient (a factor, a sign, a mask) moves the displacement by tens of percents in every tensor it reaches.
    /// Two libtorch threads, as the bound was measured with (this project's machines have two cores): on one thread,
    /// MKL's single-threaded kernels round the two paths' weight gradients differently enough that vae_32d's encoder.0
    /// ends 2 % of its displacement apart (measured 2026-12-06, on this commit's parent and on e897dfa alike), although
    /// every step agrees as the test above holds; a test that lowered the process's default thread count for a moment
    /// (OmpTeamTests, since made to run alone) once handed this test a thread that started with one.</summary>
    [Theory]
    [InlineData("vae_32d")]
    [InlineData("vae_2d")]
    [InlineData("ae_32d")]
    public void TwentyStepsOnTheirOwnReachAutogradsWeights(string name)
    {
        int threads = get_num_threads();
        set_num_threads(2);
        try
        {
            FreeRuns(name, mixed: false);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    /// <summary>The model a path trains (the float32 model, or its bfloat16 twin in mixed precision), its float32
    /// masters, and the optimiser over them.</summary>
    static (Autoencoder Master, Autoencoder Computing, FlatAdam Adam) FreshPath(ModelConfig config, int seed, bool mixed)
    {
        if (mixed) return FreshMixed(config, seed);
        var (model, adam) = Fresh(config, seed);
        return (model, model, adam);
    }

    static void FreeRuns(string name, bool mixed)
    {
        var config = ModelRegistry.Get(name);
        var reference = FreshPath(config, 5, mixed);
        var fused = FreshPath(config, 5, mixed);
        using var step = new FusedMlpStep(fused.Computing);
        var initial = reference.Master.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var data = Fixtures.MnistSlice();
        using var referenceRng = new Generator(9);
        using var fusedRng = new Generator(9);
        for (int i = 0; i < 20; i++)
        {
            using var scope = NewDisposeScope();
            var batch = data.TrainImages.narrow(0, (i * 128) % 512, 64);
            reference.Adam.ZeroGrad();
            reference.Computing.Loss(bernoulli(batch, generator: referenceRng), referenceRng).Total.backward();
            reference.Adam.Step();
            step.Step(bernoulli(batch, generator: fusedRng), fusedRng, 1.0);
            fused.Adam.Step();
        }
        var fusedWeights = fused.Master.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (parameter, weight) in reference.Master.named_parameters())
        {
            double moved = (weight - initial[parameter]).norm().item<float>();
            double apart = (fusedWeights[parameter] - weight).norm().item<float>();
            Assert.True(moved > 0, $"{parameter} did not move");
            Assert.True(apart <= 1e-3 * moved, $"{parameter}: the paths {apart:E2} apart after 20 steps, {moved:E2} moved");
        }
        Dispose(reference);
        Dispose(fused);
    }

    /// <summary>A float32 model, its bfloat16 twin, and a mixed-precision optimiser over both (as the trainer makes them).</summary>
    static (Autoencoder Master, Autoencoder Twin, FlatAdam Adam) FreshMixed(ModelConfig config, int seed)
    {
        manual_seed(seed);
        var master = Autoencoder.Create(config);
        var twin = master.Twin(ScalarType.BFloat16);
        master.train();
        twin.train();
        return (master, twin, new FlatAdam(master.ObjectiveParameters(), 1e-3, bf16Mirror: twin.ObjectiveParameters()));
    }

    /// <summary>Mixed precision: one step of the hand-written step on a bfloat16 twin against autograd through the same
    /// twin (<see cref="Autoencoder.Loss"/>, which the trainer ran before), the cases of the float32 test above.
    /// The bound: both paths run the same libtorch products on the same bfloat16 operands (the same kernels, so the same
    /// results), and between them compute the same float32 formulas, rounding to bfloat16 where the twin does. They
    /// differ only where float32 rounding does (this step's exp and log1p against libtorch's, the order of a column
    /// sum), by a few float32 ulps, which the rounding to bfloat16 hides unless a value lies within them of a rounding
    /// boundary: with 16 bits dropped, a few chances in 2^16. So almost every entry of every gradient is the
    /// twin's, bit for bit: at least 99.9 % of each tensor's entries (measured on the Intel Xeon, 2026-12-06: all of them
    /// in 59 of the 60 tensors, one entry apart in the other), and an entry that differs is off by about one bfloat16
    /// ulp (2^-7 relative at most) plus what it carries from the layers above it, so the norm of the difference is
    /// bounded by 2^-7 of the gradient's norm. A wrong factor (1/B, the KL's weight, a missing mask or cast) changes
    /// many entries of some gradient: the KL's weight times 1.001 in this step left 73.6 %, 88.9 % and 99.5 % of
    /// encoder.0.weight's entries equal in the three VAE cases (measured), each under the bound. The loss as in the
    /// float32 test: 1e-6 relative.</summary>
    [Theory]
    [MemberData(nameof(OneStepCases))]
    public void OneMixedStepGivesTheTwinsLossAndGradients(string name, int rows, double klFactor)
    {
        var (loss, expected, gradients) = OneStep(name, rows, klFactor, mixed: true);
        Assert.True(Math.Abs(loss - expected) <= 1e-6 * Math.Abs(expected), $"loss {loss:R}, the twin's {expected:R}");
        foreach (var (parameter, got, want) in gradients)
        {
            double norm = want.norm().item<float>(), difference = (got - want).norm().item<float>();
            double same = got.eq(want).to(ScalarType.Float64).mean().item<double>();
            Assert.True(norm > 0, $"{parameter}: the twin's gradient is zero");
            Assert.True(same >= 0.999, $"{parameter}: {same:P3} of the entries equal to the twin's");
            Assert.True(difference <= norm / 128, $"{parameter}: |fused - twin| = {difference:E2}, |twin| = {norm:E2}");
        }
    }

    /// <summary>20 mixed-precision Adam steps by each path on its own, as the float32 free runs above: the float32 masters'
    /// displacement agrees within 1e-3 of itself. Each step's gradients are the twin's but for a rare entry (the test
    /// above), so the runs stay together until such an entry's Adam step differs; measured on the Intel Xeon
    /// (2026-12-06): the masters bit for bit equal after the 20 steps in all four presets. The bound is the float32
    /// test's, and ae_2d is left out for the reason given there (one differing step would set its 2-d codes apart).</summary>
    [Theory]
    [InlineData("vae_32d")]
    [InlineData("vae_2d")]
    [InlineData("ae_32d")]
    public void TwentyMixedStepsOnTheirOwnReachTheTwinsWeights(string name) => FreeRuns(name, mixed: true);

    /// <summary>The bench's profile times the products inside the step: timing changes no value, the clock runs only
    /// when asked, and it counts a part of the step's own time.</summary>
    [Fact]
    public void TimingItsProductsChangesNothingAndCountsOnlyThem()
    {
        var config = ModelRegistry.Get("vae_32d");
        var plain = FreshPath(config, 11, mixed: false);
        var timed = FreshPath(config, 11, mixed: false);
        using var plainStep = new FusedMlpStep(plain.Computing);
        using var timedStep = new FusedMlpStep(timed.Computing) { TimeProducts = true };
        using var data = Fixtures.MnistSlice();
        using var x = data.TrainImages.narrow(0, 0, 64).contiguous();
        double plainLoss, timedLoss;
        using (var rng = new Generator(3)) plainLoss = plainStep.Step(x, rng, 1.0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var rng = new Generator(3)) timedLoss = timedStep.Step(x, rng, 1.0);
        double stepSeconds = clock.Elapsed.TotalSeconds;

        Assert.Equal(plainLoss, timedLoss);
        // In a scope, which holds each .grad wrapper until the comparison is done (docs/embedding.md).
        using (NewDisposeScope())
            foreach (var (a, b) in plain.Computing.parameters().Zip(timed.Computing.parameters()))
                Assert.True(a.grad!.equal(b.grad!).all().item<bool>(), "timing the products changed a gradient");
        Assert.Equal(0, plainStep.ProductSeconds);
        Assert.InRange(timedStep.ProductSeconds, double.Epsilon, stepSeconds);
        timedStep.ResetProductTime();
        Assert.Equal(0, timedStep.ProductSeconds);
        Dispose(plain);
        Dispose(timed);
    }

    [Fact]
    public void TakesOnlyTheModelsWhoseLossItWritesOut()
    {
        Assert.Null(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("vae_32d"))));
        Assert.NotNull(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("vae_2l"))));
        Assert.NotNull(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("vae_32d") with { IwaeSamples = 5 })));
        Assert.NotNull(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("vae_32d") with { Prior = "vamp", PriorComponents = 10 })));
        Assert.NotNull(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("vae_32d").WithOverrides(arch: Architecture.Conv))));
        Assert.NotNull(FusedMlpStep.Supports(Autoencoder.Create(ModelRegistry.Get("ae_2d") with { Recon = ReconstructionLoss.Mse })));
    }

    /// <summary>The step's own exp and log1p against float64's, over their whole ranges, in both widths (Vector&lt;float&gt;
    /// and the 16 lanes of AVX-512, computed in software where the CPU lacks them): each within 4 units in the last
    /// place of float32 (their remarks argue about 2: the polynomials' truncation below 6e-9 and 2e-9 relative, and a
    /// rounding per operation of Horner's scheme, whose terms shrink).</summary>
    [Fact]
    public void ItsExpAndLog1pAreFloat32Accurate()
    {
        static float[] Narrow(float[] a, Func<System.Numerics.Vector<float>, System.Numerics.Vector<float>> f)
        {
            var result = new float[a.Length];
            for (int i = 0; i < a.Length; i += System.Numerics.Vector<float>.Count)
                f(new System.Numerics.Vector<float>(a, i)).CopyTo(result, i);
            return result;
        }
        static float[] Wide(float[] a, Func<System.Runtime.Intrinsics.Vector512<float>, System.Runtime.Intrinsics.Vector512<float>> f)
        {
            var result = new float[a.Length];
            for (int i = 0; i < a.Length; i += 16)
                System.Runtime.Intrinsics.Vector512.CopyTo(f(System.Runtime.Intrinsics.Vector512.Create(a.AsSpan(i, 16))), result.AsSpan(i, 16));
            return result;
        }
        // 0 down to -87 for exp, 0 to 1 for log1p: lengths that are multiples of 16.
        var down = Enumerable.Range(0, 870_016).Select(i => -i * 1e-4f).ToArray();
        var unit = Enumerable.Range(0, 1_000_016).Select(i => i * 1e-6f).Where(a => a <= 1).ToArray()[..1_000_000];
        foreach (var (width, exp, log) in new[]
        {
            ("Vector<float>", Narrow(down, LatentLab.Runtime.VectorMath.ExpOfNegative), Narrow(unit, LatentLab.Runtime.VectorMath.Log1pOfUnit)),
            ("Vector512<float>", Wide(down, LatentLab.Runtime.VectorMath.ExpOfNegative), Wide(unit, LatentLab.Runtime.VectorMath.Log1pOfUnit)),
        })
        {
            const double ulps = 4 * 5.96e-8;   // 4 units of float32's last place, relative
            double worstExp = 0, worstLog = 0;
            for (int i = 0; i < down.Length; i++)
            {
                double want = Math.Exp(down[i]);
                if (down[i] >= -87) worstExp = Math.Max(worstExp, Math.Abs(exp[i] - want) / want);
                else Assert.Equal(0f, exp[i]);
            }
            for (int i = 0; i < unit.Length; i++)
            {
                double want = Math.Log(1 + (double)unit[i]);
                if (want > 0) worstLog = Math.Max(worstLog, Math.Abs(log[i] - want) / want);
                else Assert.Equal(0f, log[i]);
            }
            Assert.True(worstExp <= ulps, $"{width} exp: {worstExp:E2} relative at worst");
            Assert.True(worstLog <= ulps, $"{width} log1p: {worstLog:E2} relative at worst");
        }
        Assert.Equal(0f, LatentLab.Runtime.VectorMath.ExpOfNegative(new System.Numerics.Vector<float>(-200f))[0]);
        Assert.Equal(0f, LatentLab.Runtime.VectorMath.ExpOfNegative(System.Runtime.Intrinsics.Vector512.Create(-200f))[0]);
    }
}
