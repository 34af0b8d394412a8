using LatentLab.Cli;
using LatentLab.Cli.Ui;
using Spectre.Console;

namespace LatentLab.Tests.Cli;

public class CliTests
{
    static (int Exit, string Out, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No,
        });
        int exit = LatentCli.RunAsync(args, new CliConsole(console, error), CancellationToken.None).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    static void AssertOneLineError((int Exit, string Out, string Error) result, string expected)
    {
        Assert.Equal(ExitCodes.BadInput, result.Exit);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("latent: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact] public void UnknownModel() => AssertOneLineError(Run("train", "--model", "nope"), "unknown model 'nope'");
    [Fact] public void NegativeEpochs() => AssertOneLineError(Run("train", "--model", "vae_2d", "--epochs", "-1"), "--epochs must be between 1");
    [Fact] public void NonNumericOption() => AssertOneLineError(Run("train", "--model", "vae_2d", "--lr", "fast"), "'fast'");
    [Fact] public void UnknownDataset() => AssertOneLineError(Run("train", "--model", "vae_2d", "--dataset", "cifar"), "unknown dataset 'cifar'");
    [Fact] public void BadReconstructionLoss() => AssertOneLineError(Run("train", "--model", "ae_2d", "--recon", "l1"), "--recon must be bce or mse");
    [Fact] public void BadConvChannels() => AssertOneLineError(Run("train", "--model", "vae_32d", "--arch", "conv", "--conv-channels", "64,x"), "--conv-channels must be positive whole numbers");
    [Fact] public void UnknownActivation() => AssertOneLineError(Run("train", "--model", "vae_2d", "--activation", "sigmoid"), "--activation must be relu or tanh");
    [Fact] public void TanhOnAConvModel() => AssertOneLineError(Run("train", "--model", "vae_2d", "--arch", "conv", "--activation", "tanh"), "--activation tanh is for the fully connected models");
    [Fact] public void TanhOnTheBenchmarksConvRow() => AssertOneLineError(Run("benchmark", "--quick", "--activation", "tanh"), "vae_32d-conv keeps its ReLU");
    [Fact] public void DregWithAFlow() => AssertOneLineError(Run("train", "--model", "vae_2d", "--objective", "iwae-dreg", "--posterior", "iaf"), "iwae-dreg needs");
    [Fact] public void ConvChannelsWithoutConv() => AssertOneLineError(Run("train", "--model", "vae_32d", "--conv-channels", "64,128"), "--conv-channels needs --arch conv");
    [Fact] public void ZeroHiddenWidth() => AssertOneLineError(Run("train", "--model", "vae_32d", "--hidden-dims", "512,0"), "--hidden-dims");
    [Fact] public void VampPriorWithNoComponents() => AssertOneLineError(Run("train", "--model", "vae_32d", "--prior", "vamp", "--prior-components", "0"), "--prior-components must be between 1 and");
    [Fact] public void UnknownPrior() => AssertOneLineError(Run("train", "--model", "vae_32d", "--prior", "flat"), "--prior must be one of standard, vamp, mog");
    [Fact] public void PriorOnAnAutoencoder() => AssertOneLineError(Run("train", "--model", "ae_32d", "--prior", "mog"), "--prior needs a VAE");
    [Fact] public void PriorComponentsWithoutAPrior() => AssertOneLineError(Run("train", "--model", "vae_2d", "--prior-components", "5"), "--prior-components needs --prior vamp or mog");
    [Fact] public void MixtureSamplerOnAVae() => AssertOneLineError(Run("train", "--model", "vae_32d", "--sampler", "gmm"), "--sampler needs an AE");
    [Fact] public void UnknownSampler() => AssertOneLineError(Run("train", "--model", "ae_32d", "--sampler", "flow"), "--sampler must be one of gaussian, gmm");
    [Fact] public void MixtureSamplerWithNoComponents() => AssertOneLineError(Run("train", "--model", "ae_32d", "--sampler", "gmm", "--sampler-components", "0"), "--sampler-components must be between 1 and");
    [Fact] public void BenchmarkBadPrior() => AssertOneLineError(Run("benchmark", "--prior", "vamp", "--prior-components", "-3"), "--prior-components must be between 1 and");
    [Fact] public void BenchmarkBadConvChannels() => AssertOneLineError(Run("benchmark", "--conv-channels", "64,,128"), "--conv-channels must be positive whole numbers");
    [Fact] public void BenchmarkZeroHiddenWidth() => AssertOneLineError(Run("benchmark", "--hidden-dims", "0"), "--hidden-dims must be positive whole numbers");
    [Fact] public void ThreeLatentLayers() => AssertOneLineError(Run("train", "--model", "vae_32d", "--latent-dim", "8,4,2"), "--latent-dim takes one size, or two");
    [Fact] public void LatentLayersOutOfRange() => AssertOneLineError(Run("train", "--model", "vae_32d", "--latent-layers", "3"), "--latent-layers must be 1 or 2");
    [Fact] public void LatentLayersDisagreeWithSizes() => AssertOneLineError(Run("train", "--model", "vae_32d", "--latent-layers", "2", "--latent-dim", "16"), "--latent-layers 2 needs 2 sizes");
    [Fact] public void OneSizeForTwoLayers() => AssertOneLineError(Run("train", "--model", "vae_2l", "--latent-dim", "20"), "vae_2l has two stochastic layers");
    [Fact] public void TwoLayersOnAnAutoencoder() => AssertOneLineError(Run("train", "--model", "ae_32d", "--latent-layers", "2"), "two stochastic layers need a VAE");
    [Fact] public void MixturePriorOnTwoLayers() => AssertOneLineError(Run("train", "--model", "vae_2l", "--prior", "mog"), "--prior standard or vamp sets p(z2)");
    [Fact] public void BenchmarkIwaeKWithoutIwae() => AssertOneLineError(Run("benchmark", "--train-k", "5"), "--train-k belongs to --objective iwae");

    [Theory]
    [InlineData("vae_32d", "8,4", null, "vae_32d-z8.4", 12, 4)]
    [InlineData("vae_32d", null, "2", "vae_32d-z32.16", 48, 16)]
    [InlineData("vae_2l", null, "1", "vae_2l-z100", 100, 0)]
    [InlineData("vae_2l", "20,10", "2", "vae_2l-z20.10", 30, 10)]
    [InlineData("vae_2l", "100,50", null, "vae_2l", 150, 50)]
    public void LatentSizesAndLayersMakeTheModel(string model, string? dims, string? layers, string name, int latent, int top)
    {
        var preset = LatentLab.Models.ModelRegistry.Get(model);
        var (latentDim, topLatentDim) = LatentLab.Cli.Commands.CommonOptions.ParseLatent(dims, layers is null ? null : int.Parse(layers), preset);
        var config = preset.WithOverrides(latentDim, topLatentDim: topLatentDim).Validate();
        Assert.Equal(name, config.Name);
        Assert.Equal(latent, config.LatentDim);
        Assert.Equal(top, config.TopLatentDim);
        Assert.Equal(top > 0, config.TopHiddenDims is { Count: > 0 });
    }

    [Fact] public void UnknownOption() => AssertOneLineError(Run("train", "--model", "vae_2d", "--epoch", "3"), "--epoch");
    [Fact] public void MissingModel() => AssertOneLineError(Run("train"), "--model");
    [Fact] public void CompareUnknownModel() => AssertOneLineError(Run("compare", "--models", "vae_2d,nope"), "unknown model 'nope'");
    [Fact] public void CompareNoModels() => AssertOneLineError(Run("compare", "--models", ","), "--models lists no model");
    [Fact] public void CompareZeroEpochs() => AssertOneLineError(Run("compare", "--epochs", "0"), "--epochs must be between 1");
    [Fact] public void CompareNegativeIwaeK() => AssertOneLineError(Run("compare", "--iwae-k", "-3"), "--iwae-k");
    [Fact]
    public void VisualizeOptionsOutOfRangeAreNamed()
    {
        Assert.Contains("--tsne-points", Assert.Throws<LatentLabException>(() => new global::LatentLab.Visualization.VisualizeOptions(TsnePoints: 3).Validate()).Message);
        Assert.Contains("--frames", Assert.Throws<LatentLabException>(() => new global::LatentLab.Visualization.VisualizeOptions(Frames: 5).Validate()).Message);
    }

    [Fact]
    public void VisualizeAnUntrainedModelSaysSo()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("visualize", "--model", "vae_2d", "--out", dir.Path), "no trained model");
        Assert.False(Directory.Exists(dir["mnist/vae_2d/figures"]));
    }

    [Fact]
    public void ACorruptDataFileIsNamed()
    {
        using var dir = new TempDir();
        foreach (var f in Directory.GetFiles(Fixtures.MnistSliceFolder)) File.Copy(f, dir[Path.GetFileName(f)]);
        File.WriteAllBytes(dir["t10k-images-idx3-ubyte.gz"], [0x1f, 0x8b, 1, 2, 3]);
        AssertOneLineError(Run("train", "--model", "vae_2d", "--data-dir", dir.Path, "--out", dir["results"]), "t10k-images-idx3-ubyte.gz");
        Assert.False(Directory.Exists(dir["results"]));
    }

    [Fact]
    public void TrainsFromAFolderOfTheUsersOwnIdxFiles()
    {
        using var dir = new TempDir();
        var (exit, output, error) = Run("train", "--model", "ae_2d", "--epochs", "1", "--batch-size", "100", "--threads", "2",
            "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
        Assert.True(exit == ExitCodes.Success, error);
        Assert.Contains("epoch   1/1", output);
        foreach (var file in new[] { "model.safetensors", "config.json", "history.csv", "checkpoint.safetensors" })
            Assert.True(File.Exists(Path.Combine(dir.Path, "mnist", "ae_2d", file)), file);
    }

    [Fact]
    public void ModelsListsTheRegistry()
    {
        var (exit, output, _) = Run("models");
        Assert.Equal(0, exit);
        foreach (var name in LatentLab.Models.ModelRegistry.Names) Assert.Contains(name, output);
    }
}
