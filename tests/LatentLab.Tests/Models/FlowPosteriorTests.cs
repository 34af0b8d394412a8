using LatentLab.Models;
using LatentLab.Models.Posteriors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

/// <summary>The flow posteriors' densities against autograd's Jacobians and against their own inverses.</summary>
public class FlowPosteriorTests(ITestOutputHelper output)
{
    const int D = 3, B = 5;

    /// <summary>log |det dz/dz0| per image by autograd: the Jacobian row by row (images are independent, so the gradient of
    /// the sum over images of output i is, per image, row i of that image's Jacobian).</summary>
    static double[] AutogradLogDet(Func<Tensor, Tensor> f, Tensor z0)
    {
        var x = z0.detach().requires_grad_(true);
        var z = f(x);
        long n = z0.shape[0], d = z0.shape[1];
        var rows = new List<Tensor>();
        for (int i = 0; i < d; i++)
            rows.Add(autograd.grad([z.select(1, i).sum()], [x], retain_graph: true)[0]);   // [B, d]: row i of each Jacobian
        var jacobians = stack(rows, 1);                                                       // [B, d (out), d (in)]
        return linalg.slogdet(jacobians).Item2.data<double>().ToArray();
    }

    static PlanarFlowPosterior Planar(int steps, long seed)
    {
        manual_seed(seed);
        var family = new PlanarFlowFamily(D, steps);
        var encoderOutput = randn([B, family.EncoderOutputs], ScalarType.Float64);
        // Some steps with w . u near or below -1 before the constraint: the constraint must keep them invertible.
        return (PlanarFlowPosterior)family.FromEncoderOutput(encoderOutput * 1.5);
    }

    [Theory]
    [InlineData(1, 1L)]
    [InlineData(8, 2L)]
    public void APlanarFlowsLogDeterminantIsTheJacobians(int steps, long seed)
    {
        var q = Planar(steps, seed);
        var z0 = randn([B, D], ScalarType.Float64);
        var (_, logDet) = q.Transform(z0);
        var expected = AutogradLogDet(x => q.Transform(x).Z, z0);
        var got = logDet.data<double>().ToArray();
        for (int b = 0; b < B; b++)
        {
            output.WriteLine($"image {b}: {got[b]:F9} against autograd {expected[b]:F9}");
            Assert.True(Math.Abs(got[b] - expected[b]) < 1e-5, $"image {b}: {got[b]} against {expected[b]}");
        }
    }

    [Fact]
    public void APlanarFlowsDensityAtItsDrawsIsTheDrawsOwn()
    {
        // LogDensity inverts the steps by bisection; at a draw it must give the density the draw came with.
        var q = Planar(6, 3);
        using var rng = new Generator(5);
        var (z, logQ) = q.Sample(20, rng);                                                   // [20, B, D], [20, B]
        var again = q.LogDensity(z);
        double worst = (again - logQ).abs().max().item<double>();
        output.WriteLine($"largest difference {worst:E2}");
        Assert.True(worst < 1e-6, $"log q at the draws differs from the draws' own by {worst}");
    }

    static (InverseAutoregressiveFlowFamily Family, InverseAutoregressiveFlowPosterior Q) Iaf(int steps, long seed)
    {
        manual_seed(seed);
        var family = new InverseAutoregressiveFlowFamily(D, steps);
        family.to(ScalarType.Float64);
        // Weights moved from their start (sigma near 0.88, small shifts), so the test sees a flow that does something;
        // by 0.1 per weight, which keeps sigma mostly within 0.1..0.99: far smaller sigmas make the composed Jacobian so
        // ill-conditioned (determinant e^-30 from O(1) entries) that autograd's slogdet itself loses the digits compared.
        using (no_grad()) foreach (var p in family.parameters()) p.add_(randn_like(p) * 0.1);
        var q = (InverseAutoregressiveFlowPosterior)family.FromEncoderOutput(randn([B, family.EncoderOutputs], ScalarType.Float64));
        return (family, q);
    }

    [Fact]
    public void AnIafStepsOutputIDependsOnlyOnInputsBeforeI()
    {
        var (family, q) = Iaf(1, 4);
        var step = (InverseAutoregressiveFlowFamily.MadeStep)family.modules().First(m => m is InverseAutoregressiveFlowFamily.MadeStep);
        var z = randn([B, D], ScalarType.Float64);
        var (m, s) = step.Shift(z, q.Context);
        for (int j = 0; j < D; j++)
        {
            var moved = z.clone();
            moved[TensorIndex.Colon, j] += 1.0;
            var (m2, s2) = step.Shift(moved, q.Context);
            for (int i = 0; i < D; i++)
            {
                double change = Math.Max((m2 - m).select(1, i).abs().max().item<double>(), (s2 - s).select(1, i).abs().max().item<double>());
                if (i <= j) Assert.True(change == 0, $"output {i} moved by {change} when input {j} did");
                else Assert.True(change > 1e-6, $"output {i} did not move when input {j} did: the masks cut too much");
            }
        }
    }

    [Fact]
    public void AnIafsLogDeterminantIsTheJacobiansAndItsInverseUndoesIt()
    {
        var (family, q) = Iaf(3, 6);
        var z0 = randn([B, D], ScalarType.Float64);
        var (z, logDet) = family.Transform(z0, q.Context);
        var expected = AutogradLogDet(x => family.Transform(x, q.Context).Z, z0);
        var got = logDet.data<double>().ToArray();
        for (int b = 0; b < B; b++)
            Assert.True(Math.Abs(got[b] - expected[b]) < 1e-5, $"image {b}: {got[b]} against autograd {expected[b]}");
        var (back, inverseLogDet) = family.Inverse(z, q.Context);
        Assert.True((back - z0).abs().max().item<double>() < 1e-9, "the inverse does not give z0 back");
        Assert.True((inverseLogDet - logDet).abs().max().item<double>() < 1e-9, "the inverse's log-determinant differs");

        using var rng = new Generator(8);
        var (draws, logQ) = q.Sample(10, rng);
        Assert.True((q.LogDensity(draws) - logQ).abs().max().item<double>() < 1e-8, "log q at the draws differs from the draws' own");
    }

    [Theory]
    [InlineData("planar", 4)]
    [InlineData("iaf", 2)]
    public void AVaeWithAFlowPosteriorTrainsAndNamesItsRun(string posterior, int steps)
    {
        var config = ModelRegistry.Get("vae_2d").WithOverrides(posterior: posterior, flowSteps: steps);
        Assert.Equal($"vae_2d-{posterior}{steps}", config.Name);
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        using var trainer = new LatentLab.Training.Trainer(config, new LatentLab.Training.TrainingConfig(Epochs: 2, BatchSize: 64, Seed: 1),
            data, new LatentLab.Storage.RunFolder(dir.Path), tensorBoard: false);
        trainer.Train(false, null, CancellationToken.None);
        var history = File.ReadAllLines(new LatentLab.Storage.RunFolder(dir.Path).HistoryPath);
        output.WriteLine(string.Join("\n", history));
        var model = trainer.Model;
        model.eval();
        using var noGrad = no_grad();
        var x = data.TestImages.narrow(0, 0, 20);
        using var rng = new Generator(3);
        var q = model.Encode(x);
        var (z, logQ) = q.Sample(50, rng);
        Assert.True((q.LogDensity(z) - logQ).abs().max().item<float>() < 1e-3, "log q at the draws differs from the draws' own");
        // The weights round-trip: a model loaded from the run folder gives the same posterior.
        using var loaded = new LatentLab.Storage.RunFolder(dir.Path).LoadModel();
        loaded.eval();
        Assert.True((loaded.Encode(x).Mean - q.Mean).abs().max().item<float>() == 0, "the loaded model's posterior differs");
    }

    [Theory]
    [InlineData("--flow-steps", new[] { "vae_2d", "planar", "0" })]
    [InlineData("--posterior needs a VAE", new[] { "ae_2d", "iaf", "" })]
    [InlineData("needs --posterior gaussian", new[] { "vae_2d", "planar", "", "vamp" })]
    public void BadFlowSettingsAreOneClearMessage(string expected, string[] args)
    {
        var e = Assert.Throws<LatentLabException>(() => ModelRegistry.Get(args[0]).WithOverrides(posterior: args[1],
            flowSteps: args[2] == "" ? null : int.Parse(args[2]), prior: args.Length > 3 ? args[3] : null));
        Assert.Contains(expected, e.Message);
    }
}
