using LatentLab.Evaluation;
using LatentLab.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Tests.Evaluation;

public class PlaneIntegralTests(ITestOutputHelper output)
{
    static readonly float[] Patterns = [0, 0, 0, 0, 0, 0,  1, 1, 1, 1, 1, 1,  1, 0, 1, 0, 1, 0,  0, 1, 1, 0, 0, 1,  1, 1, 0, 0, 0, 0,  0, 0, 0, 1, 1, 1];

    static Autoencoder TinyVae(string prior = "standard", int components = 0)
    {
        manual_seed(42);
        var model = Autoencoder.Create(new ModelConfig("tiny", ModelKind.Vae, 2, [16]) { Image = new(1, 1, 6), Prior = prior, PriorComponents = components });
        // Sharper than a fresh model: larger decoder weights give posteriors a few tenths wide, as a trained one has.
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters()) if (name.StartsWith("decoder")) p.mul_(4);
        return model;
    }

    /// <summary>The same integral by the plain rectangle rule, an independent computation: every point of a 2,001 x 2,001
    /// grid over [-10, 10]^2 (spacing 0.01), in float64 after the decoder.</summary>
    static double[] BruteForce(Autoencoder model, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int points = 2001;
        const double half = 10, h = 2 * half / (points - 1);
        var u = linspace(-half, half, points, dtype: ScalarType.Float64);
        var grid = meshgrid([u, u], indexing: "ij");
        var z = stack([grid[0].flatten(), grid[1].flatten()], 1).to(ScalarType.Float32);
        var logits = model.Decode(z).flatten(1).to(ScalarType.Float64);                          // [P, 6]
        var logPz = model.Prior!.LogDensity(z).to(ScalarType.Float64);
        var xs = x.flatten(1).to(ScalarType.Float64);
        var logJoint = xs.mm(logits.t()) - nn.functional.softplus(logits).sum([1]) + logPz;      // [N, P]
        return (logJoint.logsumexp(1) + 2 * Math.Log(h)).data<double>().ToArray();
    }

    [Theory]
    [InlineData("standard", 0)]
    [InlineData("vamp", 3)]
    public void TheRefinedGridAgreesWithAMuchFinerOne(string prior, int components)
    {
        using var model = TinyVae(prior, components);
        model.eval();
        using var x = tensor(Patterns, [6, 1, 1, 6]);
        var result = PlaneIntegral.LogLikelihood(model, x);
        var reference = BruteForce(model, x);
        for (int i = 0; i < reference.Length; i++)
        {
            output.WriteLine($"pattern {i}: {result.LogPx[i]:F6} (grid {result.PointsPerSide[i]}, moved {result.Change[i]:E1}) against {reference[i]:F6}");
            Assert.True(result.Change[i] < PlaneIntegral.Tolerance, $"pattern {i} did not converge");
            // Both are exact to far below the tolerance here; float32 decoding limits the agreement to about 1e-5.
            Assert.True(Math.Abs(result.LogPx[i] - reference[i]) < 1e-3, $"pattern {i}: {result.LogPx[i]} against {reference[i]}");
        }
    }

    /// <summary>The survey's shortcut (finer grids summed over each image's cells only) against every grid summed whole, on
    /// a trained model whose images refine to 4,097 points a side: what the shortcut leaves out is below e^-40 of each
    /// image's sum per point, so the two agree far inside the grid's own tolerance, and every image stops at the same grid.</summary>
    [Fact]
    public void TheSurveyedGridGivesTheWholeGridsValues()
    {
        using var model = new RunFolder(Fixtures.Folder("vae2d-h128.64")).LoadModel();
        using var data = Fixtures.MnistSlice();
        using var x = data.TestImages.narrow(0, 0, 20);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var surveyed = PlaneIntegral.LogLikelihood(model, x);
        var surveyedSeconds = clock.Elapsed.TotalSeconds;
        var whole = PlaneIntegral.LogLikelihood(model, x, PlaneIntegral.MaxIntervals);
        output.WriteLine($"surveyed {surveyedSeconds:F1} s, whole {clock.Elapsed.TotalSeconds - surveyedSeconds:F1} s; grids {string.Join(" ", whole.PointsPerSide)}");
        Assert.Contains(whole.PointsPerSide, p => p > PlaneIntegral.SurveyIntervals + 1);   // the shortcut was taken
        Assert.Equal(whole.PointsPerSide, surveyed.PointsPerSide);
        for (int i = 0; i < whole.LogPx.Length; i++)
            // The left-out terms move a value by less than 1e-10 (below 4e-18 of the sum each, 1.3e7 of them at most). What
            // does move it is float32: the log joint (784 products summed, near -150 nats) is decoded and multiplied in
            // blocks of other shapes than the whole grid's chunks, and libtorch's kernels round by shape, a relative 1e-6 or
            // 1.5e-4 nats; 1e-3 bounds that with room and is a tenth of the grid's tolerance. A missed mode moves nats.
            Assert.True(Math.Abs(surveyed.LogPx[i] - whole.LogPx[i]) < 1e-3, $"image {i}: {surveyed.LogPx[i]} against {whole.LogPx[i]}");
    }

    /// <summary>A bfloat16 evaluation measures its bound with the bfloat16 twin, and log p(x) with the model itself: the
    /// twin's weights are rounded (another model), and its rounding would make the fine grids chase noise.</summary>
    [Fact]
    public void ABfloat16EvaluationIntegratesTheFloat32Model()
    {
        using var model = new RunFolder(Fixtures.Folder("vae2d-h128.64")).LoadModel();
        using var data = Fixtures.MnistSlice();
        var fp32 = Evaluator.Evaluate(model, data, new EvaluationOptions(IwaeK: 0));
        var bf16 = Evaluator.Evaluate(model, data, new EvaluationOptions(IwaeK: 0, Precision: LatentLab.Runtime.Precision.Bf16));
        Assert.Equal(LatentLab.Runtime.Precision.Bf16, bf16.Precision);
        Assert.NotEqual(fp32.TestElbo, bf16.TestElbo);                                   // the rest did run in bfloat16
        Assert.Equal(fp32.TestLogPxExact, bf16.TestLogPxExact);                           // the same computation, to the bit
        Assert.Equal(fp32.ExactPerImage!.PointsPerSide, bf16.ExactPerImage!.PointsPerSide);
    }

    [Fact]
    public void TheImportanceWeightedEstimateLiesBelowTheExactValueAndApproachesIt()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        using var trainer = new LatentLab.Training.Trainer(ModelRegistry.Get("vae_2d"), new LatentLab.Training.TrainingConfig(Epochs: 3, BatchSize: 64, Seed: 1),
            data, new LatentLab.Storage.RunFolder(dir.Path), tensorBoard: false);
        trainer.Train(false, null, CancellationToken.None);
        var model = trainer.Model;
        model.eval();
        using var noGrad = no_grad();
        var x = data.TestImages;                                                     // the slice's 100 test images
        var exact = PlaneIntegral.LogLikelihood(model, x);
        Assert.True(exact.Converged, $"largest last change {exact.MaxChange}");

        var means = new List<double>();
        foreach (int k in new[] { 1, 100, 5000 })
        {
            using var scope = NewDisposeScope();
            using var rng = new Generator(7);
            var q = model.Encode(x);
            // The log-weights themselves, to state each image's Monte-Carlo error: the standard error of log(mean w) is
            // about sd(w) / (mean(w) sqrt(k)) (the delta method).
            var logW = cat(Enumerable.Range(0, k / Math.Min(k, 100) ).Select(_ => model.LogWeights(q, x, Math.Min(k, 100), rng).to(ScalarType.Float64)).ToList(), 0);
            var estimate = (logW.logsumexp(0) - Math.Log(k)).data<double>().ToArray();
            var w = (logW - logW.amax([0], keepdim: true)).exp();
            var relativeSd = (w.std(0, unbiased: false) / w.mean([0]) / Math.Sqrt(k)).data<double>().ToArray();
            // One draw (k = 1) has no spread to state its error with: it is a bound in expectation only, checked in the mean below.
            if (k > 1)
                for (int i = 0; i < estimate.Length; i++)
                    Assert.True(estimate[i] <= exact.LogPx[i] + 4 * relativeSd[i] + exact.Change[i] + 1e-3,
                        $"k = {k}, image {i}: estimate {estimate[i]} above the exact {exact.LogPx[i]} (MC error {relativeSd[i]}, grid {exact.Change[i]})");
            means.Add(estimate.Average());
            output.WriteLine($"k = {k}: mean {estimate.Average():F3}, exact {exact.Mean:F3}");
        }
        Assert.True(means[0] < means[1] && means[1] < means[2] && means[2] <= exact.Mean + 0.01, string.Join(", ", means));
    }

    [Fact]
    public async Task EvaluateWritesTheExactValueBesideTheBoundForTwoDimensionalVaesOnly()
    {
        using var dir = new TempDir();
        foreach (var model in new[] { "vae_2d", "vae_32d" })
        {
            var (exit, _, error) = await LatentCommand.RunAsync("train", "--model", model, "--epochs", "1", "--iwae-k", "50", "--no-tensorboard",
                "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
            Assert.True(exit == 0, error);
        }
        using var twoD = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["mnist/vae_2d/metrics.json"]));
        double exact = twoD.RootElement.GetProperty("test_log_px_exact").GetDouble();
        Assert.True(twoD.RootElement.GetProperty("test_log_px_iwae").GetDouble() < exact, "the k = 50 bound of 100 images lies below log p(x)");
        Assert.True(twoD.RootElement.GetProperty("test_log_px_exact_error").GetDouble() < PlaneIntegral.Tolerance);
        using var thirtyTwo = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["mnist/vae_32d/metrics.json"]));
        Assert.False(thirtyTwo.RootElement.TryGetProperty("test_log_px_exact", out _));
    }
}
