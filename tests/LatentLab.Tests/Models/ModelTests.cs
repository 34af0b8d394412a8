using LatentLab.Models;
using LatentLab.Models.Vae;
using static TorchSharp.torch;

namespace LatentLab.Tests.Models;

public class ModelTests
{
    public static TheoryData<string> Presets() => new(ModelRegistry.Names);

    [Theory, MemberData(nameof(Presets))]
    public void OutputShapesMatchThePreset(string name)
    {
        var config = ModelRegistry.Get(name);
        manual_seed(1);
        using var model = Autoencoder.Create(config);
        using var x = rand(5, 1, 28, 28);
        using var z = model.EncodeMean(x);
        using var logits = model.forward(x);
        var terms = model.Loss(x, new Generator(3));
        Assert.Equal(new long[] { 5, config.LatentDim }, z.shape);
        Assert.Equal(new long[] { 5, 1, 28, 28 }, logits.shape);
        Assert.Empty(terms.Total.shape);
        Assert.Equal(config.Kind == ModelKind.Vae, terms.Kl.item<float>() > 0);
        Assert.Equal(terms.Total.item<float>(), terms.Reconstruction.item<float>() + terms.Kl.item<float>(), 3);
    }

    [Fact]
    public void ParameterNamesAreTheDocumentedSafetensorsNames()
    {
        using var model = Autoencoder.Create(ModelRegistry.Get("vae_2d"));
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "encoder.4.weight", "encoder.4.bias",
                      "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias", "decoder.4.weight", "decoder.4.bias"], names);
        Assert.Equal(new long[] { 4, 256 }, model.named_parameters().Single(p => p.name == "encoder.4.weight").parameter.shape); // mu and logVar
    }

    [Fact]
    public void GaussianKlMatchesAMonteCarloEstimate()
    {
        using var mu = tensor(new float[] { 0.5f, -1f }, [1, 2]);
        using var logVar = tensor(new float[] { -0.4f, 0.3f }, [1, 2]);
        using var prior = new LatentLab.Models.Priors.StandardNormalPrior(2);
        double exact = prior.KlPerDimension(mu, logVar)!.sum().item<float>();
        // E_q[log q(z) - log p(z)] estimated from many samples.
        var g = new Generator(7);
        using var z = new LatentLab.Models.Posteriors.DiagonalGaussianPosterior(mu.expand(400_000, 2), logVar.expand(400_000, 2)).Sample(g);
        using var logQ = (-0.5 * ((z - mu).square() / logVar.exp() + logVar + Math.Log(2 * Math.PI))).sum(1);
        using var logP = (-0.5 * (z.square() + Math.Log(2 * Math.PI))).sum(1);
        // The estimate's standard error here is about 0.002 nats; allow five of them.
        Assert.InRange((logQ - logP).mean().item<float>() - exact, -0.01, 0.01);
    }

    [Fact]
    public void BceReconstructionIsSummedOverPixelsAndAveragedOverTheBatch()
    {
        using var logits = zeros(4, 784); // p = 0.5 everywhere: -log 0.5 per pixel
        using var x = ones(4, 784);
        Assert.Equal(784 * Math.Log(2), Losses.Reconstruction(logits, x, ReconstructionLoss.Bce).item<float>(), 2);
    }

    [Fact]
    public void OverridesRenameTheModelAndAreValidated()
    {
        var preset = ModelRegistry.Get("vae_2d");
        var variant = preset.WithOverrides(latentDim: 8, beta: 4, recon: ReconstructionLoss.Mse);
        Assert.Equal("vae_2d-z8-beta4-mse", variant.Name);
        Assert.Equal(preset, preset.WithOverrides());
        Assert.Throws<LatentLabException>(() => preset.WithOverrides(latentDim: 0));
        Assert.Throws<LatentLabException>(() => preset.WithOverrides(beta: double.NaN));
    }

    [Theory, MemberData(nameof(Presets))]
    public void LossFallsOverAFewStepsOnRealDigits(string name)
    {
        using var data = Fixtures.MnistSlice();
        manual_seed(0);
        using var model = Autoencoder.Create(ModelRegistry.Get(name));
        using var adam = new LatentLab.Training.FlatAdam(model.parameters(), 1e-3);
        var rng = new Generator(0);
        using var x = data.TrainImages.narrow(0, 0, 128);
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            var loss = model.Loss(x, rng).Total;
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
            loss.backward();
            adam.Step();
        }
        Assert.True(last < 0.6 * first, $"{name}: loss {first:F1} -> {last:F1}");
    }

    [Fact]
    public void ALossStepLeavesNoLiveTensorsBehind()
    {
        using var model = Autoencoder.Create(ModelRegistry.Get("vae_32d"));
        using var adam = new LatentLab.Training.FlatAdam(model.parameters(), 1e-3);
        using var x = rand(16, 1, 28, 28);
        var rng = new Generator(0);
        void Step()
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            model.Loss(x, rng).Total.backward();
            adam.Step();
        }
        Step();
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [InlineData(1, 28, 28)]
    [InlineData(3, 32, 32)]
    [InlineData(1, 48, 48)]
    [InlineData(3, 64, 64)]
    [InlineData(3, 32, 48)]
    public void ConvModelsMapEveryImageSizeBackToItself(int channels, int height, int width)
    {
        manual_seed(3);
        var config = ModelRegistry.Get("vae_32d").WithOverrides(arch: Architecture.Conv).ForImages(new(channels, height, width));
        Assert.Equal("vae_32d-conv", config.Name);
        using var model = Autoencoder.Create(config);
        using var x = rand(2, channels, height, width);
        using var z = model.EncodeMean(x);
        using var logits = model.forward(x);
        Assert.Equal(new long[] { 2, 32 }, z.shape);
        Assert.Equal(x.shape, logits.shape);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("encoder.conv.0.weight", names);
        Assert.Contains("decoder.deconv.0.weight", names);
        Assert.Equal(new long[] { 32, channels, 4, 4 }, model.named_parameters().Single(p => p.name == "encoder.conv.0.weight").parameter.shape);
    }

    [Fact]
    public void ChosenConvChannelsAndWidthsBuildThatNetworkAndNameTheRun()
    {
        var config = ModelRegistry.Get("vae_32d").WithOverrides(arch: Architecture.Conv, convChannels: [16, 24, 40], hiddenDims: [96])
            .ForImages(new(1, 32, 32));
        Assert.Equal("vae_32d-conv-ch16.24.40-h96", config.Name);
        Assert.Equal([16, 24, 40], config.ConvChannels);
        using var model = Autoencoder.Create(config);
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 16, 1, 4, 4 }, shapes["encoder.conv.0.weight"]);
        Assert.Equal(new long[] { 40, 24, 4, 4 }, shapes["encoder.conv.4.weight"]);
        Assert.Equal(new long[] { 96, 40 * 4 * 4 }, shapes["encoder.dense.0.weight"]);
        Assert.Equal(new long[] { 40, 24, 4, 4 }, shapes["decoder.deconv.0.weight"]);
        using var x = rand(2, 1, 32, 32);
        using var logits = model.forward(x);
        Assert.Equal(x.shape, logits.shape);
        // The default stays as it was: the same preset without the options has the automatic channels and width.
        var plain = ModelRegistry.Get("vae_32d").WithOverrides(arch: Architecture.Conv).ForImages(new(1, 32, 32));
        Assert.Equal([32, 64, 128], plain.ConvChannels);
        Assert.Equal([ModelConfig.ConvHidden], plain.HiddenDims);
    }

    [Fact]
    public void ChosenConvChannelsMustFitTheImageAndTheArchitecture()
    {
        var tooDeep = Assert.Throws<LatentLabException>(() =>
            ModelRegistry.Get("vae_32d").WithOverrides(arch: Architecture.Conv, convChannels: [8, 8, 8]).ForImages(new(1, 28, 28)));
        Assert.Contains("divisible by 8", tooDeep.Message);
        var mlp = Assert.Throws<LatentLabException>(() => ModelRegistry.Get("vae_32d").WithOverrides(convChannels: [8]));
        Assert.Contains("--arch conv", mlp.Message);
        var mlpWidths = ModelRegistry.Get("vae_32d").WithOverrides(hiddenDims: [300]);
        Assert.Equal("vae_32d-h300", mlpWidths.Name);
        Assert.Equal([300], mlpWidths.HiddenDims);
    }

    [Fact]
    public void ConvNeedsSidesDivisibleByFour()
    {
        var error = Assert.Throws<LatentLabException>(() => ModelRegistry.Get("vae_2d").WithOverrides(arch: Architecture.Conv).ForImages(new(1, 30, 30)));
        Assert.Contains("divisible by 4", error.Message);
    }

    [Fact]
    public void AConvVaeLearnsATinySet()
    {
        manual_seed(5);
        var config = ModelRegistry.Get("vae_2d").WithOverrides(arch: Architecture.Conv).ForImages(new(3, 32, 32));
        using var model = Autoencoder.Create(config);
        using var adam = new LatentLab.Training.FlatAdam(model.parameters(), 2e-3);
        // Eight images of two kinds: a red top half, or a blue left half.
        using var x = zeros(8, 3, 32, 32);
        for (int i = 0; i < 8; i++)
            if (i % 2 == 0) x[i, 0, TensorIndex.Slice(0, 16)] = 1;
            else x[i, 2, TensorIndex.Colon, TensorIndex.Slice(0, 16)] = 1;
        using var rng = new Generator(1);
        double first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            var terms = model.Loss(x, rng);
            if (step == 0) first = terms.Total.item<float>();
            last = terms.Total.item<float>();
            terms.Total.backward();
            adam.Step();
        }
        Assert.True(last < first * 0.5, $"the loss went from {first} to {last}");
    }
}
