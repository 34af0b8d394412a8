using LatentLab.Models;
using LatentLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Training;

public class FlatAdamTests
{
    [Fact]
    public void GivesTheSameParametersAsTorchSharpsAdam()
    {
        var config = ModelRegistry.Get("vae_2d");
        manual_seed(5);
        using var reference = Autoencoder.Create(config);
        manual_seed(5);
        using var flat = Autoencoder.Create(config);

        var referenceAdam = optim.Adam(reference.parameters(), lr: 1e-3);
        using var flatAdam = new FlatAdam(flat.parameters(), 1e-3);
        using var data = Fixtures.MnistSlice();
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            var x = data.TrainImages.narrow(0, step * 64, 64);
            referenceAdam.zero_grad();
            reference.Loss(x, new Generator((ulong)step)).Total.backward();
            referenceAdam.step();

            flatAdam.ZeroGrad();
            flat.Loss(x, new Generator((ulong)step)).Total.backward();
            flatAdam.Step();
        }
        foreach (var ((name, a), (_, b)) in reference.named_parameters().Zip(flat.named_parameters()))
        {
            double difference = (a - b).abs().max().item<float>();
            Assert.True(difference <= 1e-6, $"{name}: max |difference| {difference:E2}");
        }
    }

    /// <summary>100 steps on one sequence of gradients (random, their scale moving over three orders of magnitude) given
    /// to both optimizers, so only the arithmetic of the steps differs. The bound, element by element: the moments take
    /// no square root, so they are bit for bit libtorch's; the square roots differ by at most one unit in the last place
    /// (libtorch's MKL vsSqrt is within one ulp of the correctly rounded IEEE value FlatAdam takes), a relative 2^-23;
    /// the denominator s/sqrt(1-b2^t) + eps and the quotient add at most one rounding each way of their own (2^-23 each),
    /// so the step u_t differs by at most 2^-21 |u_t|; the parameter's sum p + u rounds once more, so it may land one ulp
    /// of p apart. Differences add over the steps (Adam's update does not read p), so after T steps
    /// |p - p_torch| &lt;= sum over t of (2^-21 |u_t| + ulp(p_t)), taken along torch.optim.Adam's own trajectory.</summary>
    [Fact]
    public void StaysWithinTheRoundingBoundOfTorchSharpsAdamOver100Steps()
    {
        manual_seed(1);
        long[][] shapes = [[512, 784], [512], [256, 512], [256], [64, 256], [64]];
        var reference = shapes.Select(s => new TorchSharp.Modules.Parameter(randn(s) * 0.05f)).ToList();
        var flat = reference.Select(p => new TorchSharp.Modules.Parameter(p.detach().clone())).ToList();
        var referenceAdam = optim.Adam(reference, lr: 1e-3);
        using var flatAdam = new FlatAdam(flat, 1e-3);
        long total = shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b));
        var bound = new double[total];
        var before = Flatten(reference);
        using var noise = new Generator(3);
        for (int step = 0; step < 100; step++)
        {
            foreach (var (r, f) in reference.Zip(flat))
            {
                using var g = randn(r.shape, generator: noise) * (float)Math.Exp(-(step % 7));
                r.grad = g.clone();
                using (no_grad()) f.grad!.copy_(g);
            }
            referenceAdam.step();
            flatAdam.Step();
            var after = Flatten(reference);
            for (long i = 0; i < total; i++)
                bound[i] += Math.Pow(2, -21) * Math.Abs(after[i] - before[i]) + Ulp(after[i]);
            before = after;
        }
        var ours = Flatten(flat);
        for (long i = 0; i < total; i++)
        {
            double difference = Math.Abs((double)ours[i] - before[i]);
            Assert.True(difference <= bound[i], $"parameter {i}: |difference| {difference:E3} above its bound {bound[i]:E3}");
        }
    }

    /// <summary>Gradients that stop: 5 steps of random gradients, then 900 of zeros, as a ReLU unit that stops firing sees.
    /// The first moment decays by beta1 each step and would pass through float32's subnormal numbers (each operation on
    /// one a microcode assist on Intel CPUs); FlatAdam sets a moment below 2^-126 to zero instead, and before that, while
    /// the step's term lr m would be subnormal, leaves the term out. The parameters stay within the rounding bound of the
    /// test above against torch.optim.Adam, which keeps the subnormals.</summary>
    [Fact]
    public void MomentsOfGradientsThatStopBecomeZeroNotSubnormal()
    {
        manual_seed(2);
        var reference = new TorchSharp.Modules.Parameter(randn(4096) * 0.05f);
        var flat = new TorchSharp.Modules.Parameter(reference.detach().clone());
        var referenceAdam = optim.Adam([reference], lr: 1e-3);
        using var flatAdam = new FlatAdam([flat], 1e-3);
        var bound = new double[4096];
        var before = Flatten([reference]);
        using var noise = new Generator(4);
        float decayed = 0;
        bool wentSubnormal = false, stepWentSubnormal = false;
        for (int step = 0; step < 905; step++)
        {
            using var g = step < 5 ? randn(4096, generator: noise) : zeros(4096);
            reference.grad = g.clone();
            using (no_grad()) flat.grad!.copy_(g);
            referenceAdam.step();
            flatAdam.Step();
            var after = Flatten([reference]);
            for (int i = 0; i < 4096; i++) bound[i] += Math.Pow(2, -21) * Math.Abs(after[i] - before[i]) + Ulp(after[i]);
            before = after;
            // The precondition: the first element's moment, decaying in float32 arithmetic as torch's does.
            decayed = step < 5 ? flatAdam.State.M[0].item<float>() : decayed * 0.9f;
            wentSubnormal |= float.IsSubnormal(decayed);
            stepWentSubnormal |= float.IsNormal(decayed) && float.IsSubnormal(decayed * (float)(1e-3 / (1 - Math.Pow(0.9, step + 1))));
        }
        Assert.True(wentSubnormal, "precondition: the moment should have passed through the subnormal numbers");
        Assert.True(stepWentSubnormal, "precondition: the step's term lr m should have been subnormal while the moment was not");
        var m = flatAdam.State.M.data<float>().ToArray();
        var v = flatAdam.State.V.data<float>().ToArray();
        Assert.DoesNotContain(m, float.IsSubnormal);
        Assert.DoesNotContain(v, float.IsSubnormal);
        Assert.All(m, x => Assert.Equal(0f, x));
        var ours = Flatten([flat]);
        for (int i = 0; i < 4096; i++)
            Assert.True(Math.Abs((double)ours[i] - before[i]) <= bound[i], $"parameter {i}: {ours[i]:R} against torch's {before[i]:R}, bound {bound[i]:E3}");
    }

    static float[] Flatten(IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        parameters.SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    /// <summary>One unit in the last place of a float32 value.</summary>
    static double Ulp(float x) => MathF.BitIncrement(MathF.Abs(x)) - MathF.Abs(x);

    [Fact]
    public void ParametersAndGradientsAreViewsOfTheFlatBuffers()
    {
        using var model = Autoencoder.Create(ModelRegistry.Get("ae_2d"));
        using var adam = new FlatAdam(model.parameters(), 1e-2);
        using var x = rand(8, 1, 28, 28);
        adam.ZeroGrad();
        model.Loss(x, null).Total.backward();
        var before = model.parameters().Select(p => p.clone()).ToList();
        adam.Step();
        // Every parameter moved, so every gradient landed in the flat buffer the step reads.
        foreach (var (p, old) in model.parameters().Zip(before))
            Assert.True((p - old).abs().max().item<float>() > 0);
        Assert.Equal(model.parameters().Sum(p => p.numel()), adam.ParameterCount);
    }
}
