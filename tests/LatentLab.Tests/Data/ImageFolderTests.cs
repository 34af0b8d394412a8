using System.Text.Json;
using LatentLab.Cli;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using static TorchSharp.torch;

namespace LatentLab.Tests.Data;

public class ImageFolderTests
{
    static (int Exit, string Out, string Error) Run(params string[] args) => LatentCommand.Run(args);

    /// <summary>(label, pixel bytes) of every image of both splits, sorted: equal lists mean the same images.</summary>
    static List<string> Images(Dataset data)
    {
        var result = new List<string>();
        foreach (var (images, labels) in new[] { (data.TrainImages, data.TrainLabels), (data.TestImages, data.TestLabels) })
        {
            var bytes = images.mul(255).round().to(ScalarType.Byte).data<byte>().ToArray();
            var classes = labels.data<long>().ToArray();
            int size = data.Shape.Pixels;
            for (int i = 0; i < classes.Length; i++)
                result.Add($"{data.ClassNames[(int)classes[i]]}:{Convert.ToHexString(bytes, i * size, size)}");
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    [Fact]
    public void AFolderOfPngsGivesTheSamePixelsAsTheIdxFiles()
    {
        using var dir = new TempDir();
        ImageFolders.WriteMnistSlice(dir["digits"]);
        using var idx = Fixtures.MnistSlice();
        using var folder = ImageFolder.Load(dir["digits"], new ImageFolderOptions(), dir["data"]);

        Assert.Equal(ImageShape.Mnist, folder.Shape);                  // grey, 28 x 28, chosen from the data
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], folder.ClassNames);
        Assert.Equal(idx.TrainCount + idx.TestCount, folder.TrainCount + folder.TestCount);
        Assert.Equal(Images(idx), Images(folder));
        // A tenth of each class is held out, at least one image.
        var testPerClass = folder.TestLabels.bincount(null).data<long>().ToArray();
        var allPerClass = cat([folder.TrainLabels, folder.TestLabels]).bincount(null).data<long>().ToArray();
        for (int c = 0; c < 10; c++) Assert.Equal(Math.Max(1, (long)Math.Round(allPerClass[c] * 0.1, MidpointRounding.AwayFromZero)), testPerClass[c]);

        // The second read comes from the cache file, with the same split and pixels.
        var cache = Assert.Single(Directory.GetFiles(dir["data/image-folders"], "*.safetensors"));
        File.SetLastWriteTimeUtc(cache, DateTime.UtcNow.AddMinutes(1));
        using var again = ImageFolder.Load(dir["digits"], new ImageFolderOptions(), dir["data"]);
        Assert.Equal(folder.Folder!.SplitSha256, again.Folder!.SplitSha256);
        Assert.True(again.TestImages.eq(folder.TestImages).all().item<bool>());
        Assert.Equal(File.GetLastWriteTimeUtc(cache), File.GetLastWriteTimeUtc(Assert.Single(Directory.GetFiles(dir["data/image-folders"], "*.safetensors"))));

        // Another seed or fraction is another split; a changed file is another cache entry.
        using var other = ImageFolder.Load(dir["digits"], new ImageFolderOptions(TestFraction: 0.2), dir["data"]);
        Assert.NotEqual(folder.Folder.SplitSha256, other.Folder!.SplitSha256);
        File.Copy(Path.Combine(dir["digits"], "3", Directory.GetFiles(dir["digits/3"]).Select(Path.GetFileName).First()!), dir["digits/3/extra.png"]);
        using var grown = ImageFolder.Load(dir["digits"], new ImageFolderOptions(), dir["data"]);
        Assert.Equal(folder.TrainCount + folder.TestCount + 1, grown.TrainCount + grown.TestCount);
        Assert.Equal(2, Directory.GetFiles(dir["data/image-folders"], "*.safetensors").Length);
    }

    [Fact]
    public void ColourImagesOfMixedSizesAndFormatsAreReadAsRgbOfTheCommonSize()
    {
        using var dir = new TempDir();
        ImageFolders.WriteColorShapes(dir["shapes"], perClass: 10);
        var warnings = new List<string>();
        using var data = ImageFolder.Load(dir["shapes"], new ImageFolderOptions(), dir["data"], new SynchronousProgress<FetchProgress>(p => { if (p.Note is not null) warnings.Add(p.Note); }));
        Assert.Empty(warnings);
        Assert.Equal(new ImageShape(3, 32, 32), data.Shape);
        Assert.Equal(["discs", "squares", "triangles"], data.ClassNames);
        Assert.Equal(30, data.TrainCount + data.TestCount);
        Assert.Equal(3, data.TestCount);
        // Transparent pixels are composited on white: the corner of a transparent PNG (disc #2) is white.
        var red = data.TrainImages.select(1, 0).mean().item<float>();
        Assert.InRange(red, 0.3f, 1f);
        using var grey = ImageFolder.Load(dir["shapes"], new ImageFolderOptions(Channels: 1, Width: 16, Height: 16), dir["data"]);
        Assert.Equal(new ImageShape(1, 16, 16), grey.Shape);
    }

    [Fact]
    public void CorruptFilesAreSkippedWithOneWarning()
    {
        using var dir = new TempDir();
        ImageFolders.WriteColorShapes(dir["shapes"], perClass: 4);
        File.WriteAllBytes(dir["shapes/discs/broken.png"], [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        File.WriteAllText(dir["shapes/squares/notes.jpg"], "not an image");
        File.WriteAllText(dir["shapes/squares/readme.txt"], "ignored: not an image extension");
        var result = Run("train", "--model", "ae_2d", "--dataset", dir["shapes"], "--epochs", "1", "--out", dir["out"], "--data-dir", dir["data"], "--iwae-k", "0");
        Assert.True(result.Exit == 0, result.Out + result.Error);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var warning = Assert.Single(lines);
        Assert.Contains("skipped 2 unreadable image files", warning);
        Assert.Contains("broken.png", warning);
        Assert.Contains("notes.jpg", warning);
    }

    [Fact]
    public void AnEmptyFolderIsOneClearError()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["empty/cats"]);
        var result = Run("train", "--model", "vae_2d", "--dataset", dir["empty"], "--out", dir["out"], "--data-dir", dir["data"]);
        AssertOneLineError(result, "no image files");
    }

    [Fact]
    public void AClassWithOneImageIsOneClearError()
    {
        using var dir = new TempDir();
        ImageFolders.WriteColorShapes(dir["shapes"], perClass: 3);
        foreach (var file in Directory.GetFiles(dir["shapes/squares"]).Skip(1)) File.Delete(file);
        var result = Run("train", "--model", "vae_2d", "--dataset", dir["shapes"], "--out", dir["out"], "--data-dir", dir["data"]);
        AssertOneLineError(result, "class 'squares' has 1 usable image");
    }

    [Fact]
    public void AFolderOfOnlyCorruptFilesIsOneClearError()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["bad"]);
        File.WriteAllText(dir["bad/a.png"], "x");
        File.WriteAllText(dir["bad/b.png"], "y");
        var result = Run("train", "--model", "vae_2d", "--dataset", dir["bad"], "--out", dir["out"], "--data-dir", dir["data"]);
        Assert.Equal(ExitCodes.BadInput, result.Exit);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("no readable image", lines[^1]);
        Assert.DoesNotContain("   at ", result.Error);
    }

    static void AssertOneLineError((int Exit, string Out, string Error) result, string expected)
    {
        Assert.Equal(ExitCodes.BadInput, result.Exit);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("latent: ", line);
        Assert.Contains(expected, line);
    }

    /// <summary>The whole path on colour images of mixed sizes and formats: train a conv VAE, visualize it in colour,
    /// then load the run folder again and evaluate it to the same metrics.</summary>
    [Fact]
    public void AConvVaeTrainsOnColourImagesVisualizesAndReloads()
    {
        using var dir = new TempDir();
        ImageFolders.WriteColorShapes(dir["shapes"], perClass: 12);
        string[] common = ["--dataset", dir["shapes"], "--out", dir["out"], "--data-dir", dir["data"]];
        var train = Run(["train", "--model", "vae_2d", "--arch", "conv", "--epochs", "1", "--iwae-k", "5", .. common]);
        Assert.True(train.Exit == 0, train.Out + train.Error);
        var run = dir["out/shapes/vae_2d-conv"];
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            var model = config.RootElement.GetProperty("model");
            Assert.Equal("conv", model.GetProperty("arch").GetString());
            Assert.Equal(3, model.GetProperty("image").GetProperty("channels").GetInt32());
            Assert.Equal([32, 64, 128], model.GetProperty("conv_channels").EnumerateArray().Select(c => c.GetInt32()));
            var folder = config.RootElement.GetProperty("dataset").GetProperty("folder");
            Assert.Equal(64, folder.GetProperty("split_sha256").GetString()!.Length);
        }
        var trained = File.ReadAllText(Path.Combine(run, "metrics.json"));

        var visualize = Run(["visualize", "--model", "vae_2d-conv", "--tsne-points", "50", "--frames", "10", .. common]);
        Assert.True(visualize.Exit == 0, visualize.Out + visualize.Error);
        // The test images in reconstructions.png keep their colours: saturated red, green and blue shapes.
        using (var figure = SkiaSharp.SKBitmap.Decode(Path.Combine(run, "figures", "reconstructions.png")))
        {
            var seen = new HashSet<string>();
            for (int y = 0; y < figure.Height; y += 2)
                for (int x = 0; x < figure.Width; x += 2)
                {
                    var p = figure.GetPixel(x, y);
                    if (p.Red > 150 && p.Green < 90 && p.Blue < 90) seen.Add("red");
                    if (p.Green > 120 && p.Red < 90 && p.Blue < 110) seen.Add("green");
                    if (p.Blue > 150 && p.Red < 90 && p.Green < 120) seen.Add("blue");
                }
            Assert.Equal(["blue", "green", "red"], seen.Order());
        }
        foreach (var file in new[] { "figures/latent_scatter.png", "figures/manifold.png", "figures/reconstructions.png", "animations/sampling.gif", "animations/interpolation.gif", "animations/latent_evolution.gif" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);

        var evaluate = Run(["evaluate", "--model", "vae_2d-conv", "--iwae-k", "5", .. common]);
        Assert.True(evaluate.Exit == 0, evaluate.Out + evaluate.Error);
        using var before = JsonDocument.Parse(trained);
        using var after = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        foreach (var property in before.RootElement.EnumerateObject().Where(p => p.Name != "eval_seconds"))
            Assert.Equal(property.Value.GetRawText(), after.RootElement.GetProperty(property.Name).GetRawText());
    }

    [Fact]
    public void AFlatFolderHasNoLabelsAndSkipsTheClassProbes()
    {
        using var dir = new TempDir();
        ImageFolders.WriteColorShapes(dir["shapes"], perClass: 6);
        Directory.CreateDirectory(dir["flat"]);
        foreach (var file in Directory.GetFiles(dir["shapes"], "*", SearchOption.AllDirectories)) File.Copy(file, Path.Combine(dir["flat"], Path.GetFileName(file)));
        var result = Run("train", "--model", "ae_2d", "--dataset", dir["flat"], "--epochs", "1", "--out", dir["out"], "--data-dir", dir["data"], "--iwae-k", "0");
        Assert.True(result.Exit == 0, result.Out + result.Error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(dir["out/flat/ae_2d/metrics.json"]));
        Assert.False(metrics.RootElement.TryGetProperty("knn_accuracy", out _));
        Assert.False(metrics.RootElement.TryGetProperty("linear_probe_accuracy", out _));
        Assert.True(metrics.RootElement.GetProperty("test_ssim").GetDouble() is > -1 and <= 1);
    }
}
