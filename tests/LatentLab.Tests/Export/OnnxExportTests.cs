using LatentLab.Cli;
using LatentLab.Models;
using LatentLab.Models.Vae;
using LatentLab.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Tests.Export;

/// <summary>The exported ONNX files, run by ONNX Runtime, give the TorchSharp model's outputs on 100 test images.</summary>
public class OnnxExportTests
{
    static async Task<(int Exit, string Error)> Run(params string[] args)
    {
        var (exit, _, error) = await LatentCommand.RunAsync(args);
        return (exit, error);
    }

    static float[] Run(InferenceSession session, string input, float[] values, long[] shape, string output)
    {
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(values, shape.Select(d => (int)d).ToArray()))]);
        return results.Single(r => r.Name == output).AsEnumerable<float>().ToArray();
    }

    static double MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Select((v, i) => (double)Math.Abs(v - b[i])).Max();
    }

    [Theory]
    [InlineData("vae_2d", null)]
    [InlineData("ae_2d", null)]
    [InlineData("vae_32d", null)]
    [InlineData("ae_32d", null)]
    [InlineData("vae_2d", "conv")]
    [InlineData("ae_32d", "conv")]
    [InlineData("vae_32d", "conv", "--conv-channels 16,24 --hidden-dims 40,20", "vae_32d-conv-ch16.24-h40.20")]
    [InlineData("vae_2l", null)]
    [InlineData("vae_2d", null, "--activation tanh", "vae_2d-tanh")]
    public async Task OnnxRuntimeGivesTheTorchSharpOutputsWithin1e5(string preset, string? arch, string? widths = null, string? runName = null)
    {
        using var dir = new TempDir();
        string[] common = ["--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path];
        string[] archArgs = [.. arch is null ? [] : new[] { "--arch", arch }, .. widths?.Split(' ') ?? []];
        var train = await Run(["train", "--model", preset, "--epochs", "1", "--iwae-k", "0", .. archArgs, .. common]);
        Assert.True(train.Exit == 0, train.Error);
        string name = runName ?? (arch is null ? preset : $"{preset}-{arch}");
        var export = await Run("export", "--model", name, "--format", "onnx", "--out", dir.Path);
        Assert.True(export.Exit == 0, export.Error);

        var folder = new RunFolder(dir[$"mnist/{name}"]);
        using var model = folder.LoadModel();
        model.eval();
        using var data = Fixtures.MnistSlice();
        var images = data.TestImages.narrow(0, 0, 100);
        using var encoder = new InferenceSession(Path.Combine(folder.Root, "onnx", "encoder.onnx"));
        using var decoder = new InferenceSession(Path.Combine(folder.Root, "onnx", "decoder.onnx"));
        Assert.Equal("image", encoder.InputMetadata.Keys.Single());
        Assert.Equal(-1, encoder.InputMetadata["image"].Dimensions[0]);          // the batch dimension is dynamic
        using var noGrad = no_grad();
        var pixels = images.data<float>().ToArray();
        int latent = model.Config.DecoderLatentDim;   // the decoder's input: a two-level VAE's z1
        TorchSharp.torch.Tensor codes;
        var q = model.Encode(images);
        if (((q as LatentLab.Models.Posteriors.TwoLevelPosterior)?.Lower ?? q as LatentLab.Models.Posteriors.DiagonalGaussianPosterior) is { Mu: var mu, LogVar: var logVar })
        {
            Assert.True(MaxDifference(mu.data<float>().ToArray(), Run(encoder, "image", pixels, images.shape, "mean")) <= 1e-5);
            Assert.True(MaxDifference(logVar.data<float>().ToArray(), Run(encoder, "image", pixels, images.shape, "log_variance")) <= 1e-5);
            codes = mu;
        }
        else
        {
            codes = model.EncodeMean(images);
            Assert.True(MaxDifference(codes.data<float>().ToArray(), Run(encoder, "image", pixels, images.shape, "code")) <= 1e-5);
        }
        var expected = model.Decode(codes).sigmoid().data<float>().ToArray();
        var actual = Run(decoder, "code", codes.data<float>().ToArray(), [100, latent], "image");
        double worst = MaxDifference(expected, actual);
        Assert.True(worst <= 1e-5, $"decoder differs by {worst}");
    }

    /// <summary>A flow posterior: encoder.onnx gives the base Gaussian and the flow's inputs, and posterior.safetensors's
    /// recipe, followed here in plain arithmetic from its words, carries the base mean to the model's posterior code and
    /// gives the model's log q(z|x) at a draw.</summary>
    [Theory]
    [InlineData("planar", 3)]
    [InlineData("iaf", 2)]
    public async Task AFlowPosteriorFinishesFromTheOnnxOutputsByItsRecipe(string posterior, int steps)
    {
        using var dir = new TempDir();
        string[] common = ["--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path, "--epochs", "1", "--iwae-k", "0", "--no-tensorboard"];
        Assert.Equal(0, (await Run(["train", "--model", "vae_2d", "--posterior", posterior, "--flow-steps", $"{steps}", .. common])).Exit);
        string name = $"vae_2d-{posterior}{steps}";
        var export = await Run("export", "--model", name, "--out", dir.Path);
        Assert.True(export.Exit == 0, export.Error);
        var run = new RunFolder(dir[$"mnist/{name}"]);
        var (tensors, metadata) = LatentLab.IO.SafeTensors.Read(Path.Combine(run.Root, "onnx", "posterior.safetensors"));
        Assert.Equal(posterior, metadata["posterior"]);
        Assert.Contains("z = mean + exp(log_variance / 2) * eps", metadata["how_to_sample"]);

        using var model = run.LoadModel();
        model.eval();
        using var noGrad = no_grad();
        using var data = Fixtures.MnistSlice();
        var images = data.TestImages.narrow(0, 0, 10);
        using var encoder = new InferenceSession(Path.Combine(run.Root, "onnx", "encoder.onnx"));
        var pixels = images.data<float>().ToArray();
        var mean = Run(encoder, "image", pixels, images.shape, "mean");
        var logVar = Run(encoder, "image", pixels, images.shape, "log_variance");
        string extraName = posterior == "planar" ? "flow" : "context";
        var extra = Run(encoder, "image", pixels, images.shape, extraName);
        int width = extra.Length / 10;
        var q = model.Encode(images);
        var expectedCode = q.Mean.data<float>().ToArray();
        // A draw: eps fixed here, z0 = mean + sigma eps, and log q(z|x) = log N(z0) - the steps' log-determinants.
        var eps = new[] { 0.7, -1.2 };
        var zValues = new float[20];
        var expectedLogQ = new double[10];
        for (int i = 0; i < 10; i++)
        {
            var e = extra.Skip(i * width).Take(width).Select(v => (double)v).ToArray();
            double[] Finish(double[] z0, out double logDet) => posterior == "planar" ? Planar(z0, e, steps, out logDet) : Iaf(z0, e, tensors, steps, out logDet);
            var code = Finish([mean[2 * i], mean[2 * i + 1]], out _);
            for (int d = 0; d < 2; d++)
                Assert.True(Math.Abs(code[d] - expectedCode[2 * i + d]) < 1e-4, $"image {i}: the recipe gives {code[d]}, the model {expectedCode[2 * i + d]}");
            double[] start = [mean[2 * i] + Math.Exp(logVar[2 * i] / 2) * eps[0], mean[2 * i + 1] + Math.Exp(logVar[2 * i + 1] / 2) * eps[1]];
            var drawn = Finish(start, out double logDetDraw);
            double logN = 0;
            for (int d = 0; d < 2; d++) logN += -0.5 * (eps[d] * eps[d] + logVar[2 * i + d] + Math.Log(2 * Math.PI));
            expectedLogQ[i] = logN - logDetDraw;
            zValues[2 * i] = (float)drawn[0];
            zValues[2 * i + 1] = (float)drawn[1];
        }
        using var z = tensor(zValues, [10, 2]);
        var modelLogQ = q.LogDensity(z).data<float>().ToArray();
        for (int i = 0; i < 10; i++)
            Assert.True(Math.Abs(modelLogQ[i] - expectedLogQ[i]) < 1e-3, $"image {i}: log q by the recipe {expectedLogQ[i]}, by the model {modelLogQ[i]}");
    }

    static double Softplus(double a) => Math.Max(a, 0) + Math.Log(1 + Math.Exp(-Math.Abs(a)));

    /// <summary>posterior.safetensors's planar recipe, word for word.</summary>
    static double[] Planar(double[] z0, double[] flow, int steps, out double logDet)
    {
        int d = z0.Length;
        var z = (double[])z0.Clone();
        logDet = 0;
        for (int k = 0; k < steps; k++)
        {
            var block = flow.Skip(k * (2 * d + 1)).ToArray();
            double[] u = block[..d], w = block[d..(2 * d)];
            double b = block[2 * d];
            double wu = w.Zip(u, (p, q) => p * q).Sum(), ww = w.Sum(v => v * v);
            var uh = u.Select((v, j) => v + (Softplus(wu) - 1 - wu) * w[j] / ww).ToArray();
            double h = Math.Tanh(w.Zip(z, (p, q) => p * q).Sum() + b);
            logDet += Math.Log(Math.Abs(1 + (1 - h * h) * w.Zip(uh, (p, q) => p * q).Sum()));
            z = z.Select((v, j) => v + uh[j] * h).ToArray();
        }
        return z;
    }

    /// <summary>posterior.safetensors's IAF recipe, word for word.</summary>
    static double[] Iaf(double[] z0, double[] c, Dictionary<string, LatentLab.IO.SafeTensor> tensors, int steps, out double logDet)
    {
        double[] W(string name) => tensors[name].ToTensor().to(ScalarType.Float64).data<double>().ToArray();
        double[] Affine(double[] weight, double[]? bias, double[] x)
        {
            int rows = weight.Length / x.Length;
            return Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, x.Length).Sum(j => weight[r * x.Length + j] * x[j]) + (bias?[r] ?? 0)).ToArray();
        }
        var z = (double[])z0.Clone();
        logDet = 0;
        for (int k = 0; k < steps; k++)
        {
            if (k > 0) z = [.. z.Reverse()];
            var pre = Affine(W($"step{k}.input.weight"), W($"step{k}.input.bias"), z).Zip(Affine(W($"step{k}.context.weight"), null, c), (a, b) => a + b);
            var h = pre.Select(v => v > 0 ? v : Math.Exp(v) - 1).ToArray();
            var m = Affine(W($"step{k}.shift.weight"), W($"step{k}.shift.bias"), h);
            var s = Affine(W($"step{k}.scale.weight"), W($"step{k}.scale.bias"), h);
            var sigma = s.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
            logDet += sigma.Sum(Math.Log);
            z = z.Select((v, j) => sigma[j] * v + (1 - sigma[j]) * m[j]).ToArray();
        }
        return z;
    }

    [Fact]
    public async Task BadExportsAreOneLine()
    {
        using var dir = new TempDir();
        var untrained = await Run("export", "--model", "vae_2d", "--out", dir.Path);
        Assert.Equal(ExitCodes.BadInput, untrained.Exit);
        Assert.Contains("no trained model", untrained.Error);
        Assert.Single(untrained.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var train = await Run("train", "--model", "ae_2d", "--epochs", "1", "--iwae-k", "0", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
        Assert.Equal(0, train.Exit);
        var format = await Run("export", "--model", "ae_2d", "--format", "tflite", "--out", dir.Path);
        Assert.Equal(ExitCodes.BadInput, format.Exit);
        Assert.Contains("--format must be onnx", format.Error);
        var unwritable = await Run("export", "--model", "ae_2d", "--out", dir.Path, "--to", "/proc/latentlab-export");
        Assert.Equal(ExitCodes.BadInput, unwritable.Exit);
        Assert.Single(unwritable.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--to /proc/latentlab-export", unwritable.Error);
    }

    /// <summary>prior.safetensors and its recipe: for the VampPrior, the pseudo-inputs run through encoder.onnx give the
    /// mixture whose density is the model's log p(z); for an AE, the fitted sampler's mean and covariance.</summary>
    [Fact]
    public async Task ThePriorBesideTheOnnxFilesSamplesAsTheModelDoes()
    {
        using var dir = new TempDir();
        string[] common = ["--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path, "--epochs", "1", "--iwae-k", "0", "--no-tensorboard"];
        Assert.Equal(0, (await Run(["train", "--model", "vae_2d", "--prior", "vamp", "--prior-components", "4", .. common])).Exit);
        Assert.Equal(0, (await Run(["train", "--model", "ae_2d", .. common])).Exit);
        Assert.Equal(0, (await Run("export", "--model", "vae_2d-vamp4", "--out", dir.Path)).Exit);
        Assert.Equal(0, (await Run("export", "--model", "ae_2d", "--out", dir.Path)).Exit);

        var run = new RunFolder(dir["mnist/vae_2d-vamp4"]);
        var (tensors, metadata) = LatentLab.IO.SafeTensors.Read(Path.Combine(run.Root, "onnx", "prior.safetensors"));
        Assert.Equal("vamp", metadata["prior"]);
        Assert.Contains("encoder.onnx", metadata["how_to_sample"]);
        var u = tensors["pseudo_inputs"];
        Assert.Equal(new long[] { 4, 1, 28, 28 }, u.Shape);
        using var encoder = new InferenceSession(Path.Combine(run.Root, "onnx", "encoder.onnx"));
        using var pseudo = u.ToTensor();
        var mean = Run(encoder, "image", pseudo.data<float>().ToArray(), u.Shape, "mean");
        var logVar = Run(encoder, "image", pseudo.data<float>().ToArray(), u.Shape, "log_variance");
        using var model = run.LoadModel();
        using var noGrad = no_grad();
        using var z = tensor(new float[] { 0.3f, -0.2f, 1.5f, 0.5f, -1f, 2f }, [3, 2]);
        var expected = model.Prior!.LogDensity(z).data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            double sum = 0;
            for (int k = 0; k < 4; k++)
            {
                double logN = 0;
                for (int d = 0; d < 2; d++)
                {
                    double v = Math.Exp(logVar[2 * k + d]), x = z[i, d].item<float>() - mean[2 * k + d];
                    logN += -0.5 * (x * x / v + Math.Log(2 * Math.PI * v));
                }
                sum += Math.Exp(logN) / 4;
            }
            Assert.True(Math.Abs(Math.Log(sum) - expected[i]) < 1e-4, $"point {i}: {Math.Log(sum)} from the exported files, {expected[i]} from the model");
        }

        var (aeTensors, aeMetadata) = LatentLab.IO.SafeTensors.Read(dir["mnist/ae_2d/onnx/prior.safetensors"]);
        Assert.Equal("sampler:gaussian", aeMetadata["prior"]);
        using var ae = new RunFolder(dir["mnist/ae_2d"]).LoadModel();
        var sampler = Assert.IsType<LatentLab.Models.Samplers.GaussianSampler>(ae.Prior);
        using var exportedMean = aeTensors["mean"].ToTensor();
        Assert.True(exportedMean.to(ScalarType.Float64).allclose(sampler.Mean, rtol: 1e-6, atol: 1e-7));
    }
}
