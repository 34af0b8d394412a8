using LatentLab.Data;
using ImageMagick;
using LatentLab.Models;
using LatentLab.Training;
using LatentLab.Visualization;
using SkiaSharp;
using LatentLab.Storage;

namespace LatentLab.Tests.Visualization;

/// <summary>Every picture and animation of a model trained for one epoch on the committed MNIST slice, opened and looked at.</summary>
public class VisualizerTests
{
    static readonly string[] CommonFigures = ["latent_scatter.png", "reconstructions.png", "samples.png", "latent_histograms.png", "training_curves.png"];

    static VisualizeResult TrainAndDraw(string model, string folderPath, int frames = 24)
    {
        using var data = Fixtures.MnistSlice();
        var folder = new RunFolder(folderPath);
        using var trainer = new Trainer(ModelRegistry.Get(model), new TrainingConfig(Epochs: 1, BatchSize: 100), data, folder);
        Assert.Equal(TrainingOutcome.Completed, trainer.Train(resume: false, null, CancellationToken.None));
        return Visualizer.Run(trainer.Model, data, folder, new VisualizeOptions(TsnePoints: 100, Frames: frames));
    }

    /// <summary>Standard deviation of the gray level over all pixels: a blank or one-colour image has none.</summary>
    static double GrayStd(ReadOnlySpan<byte> rgba)
    {
        double sum = 0, squares = 0;
        int n = rgba.Length / 4;
        for (int i = 0; i < n; i++)
        {
            double g = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / 3.0;
            sum += g;
            squares += g * g;
        }
        double mean = sum / n;
        return Math.Sqrt(Math.Max(0, squares / n - mean * mean));
    }

    static void AssertPng(string path, int minWidth, int minHeight)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        using var bitmap = SKBitmap.Decode(path) ?? throw new Xunit.Sdk.XunitException($"{path} is not a readable PNG");
        Assert.InRange(bitmap.Width, minWidth, 4000);
        Assert.InRange(bitmap.Height, minHeight, 4000);
        using var rgba = bitmap.Copy(SKColorType.Rgba8888);
        Assert.True(GrayStd(rgba.GetPixelSpan()) > 10, $"{Path.GetFileName(path)} looks blank");
    }

    static void AssertGif(string path, int frames, int width, int height)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        using var collection = new MagickImageCollection(path);
        Assert.Equal(frames, collection.Count);
        collection.Coalesce();                 // frames after the first hold only what changed: rebuild them whole
        Assert.All(collection, frame => Assert.Equal((uint)width, frame.Width));
        Assert.All(collection, frame => Assert.Equal((uint)height, frame.Height));
        var first = collection[0].GetPixels().ToByteArray(PixelMapping.RGBA)!;
        var middle = collection[frames / 2].GetPixels().ToByteArray(PixelMapping.RGBA)!;
        Assert.True(GrayStd(first) > 10, $"{Path.GetFileName(path)}: first frame looks blank");
        Assert.False(first.AsSpan().SequenceEqual(middle), $"{Path.GetFileName(path)}: nothing moves");
    }

    [Fact]
    public void TwoDimensionalVaeGetsEveryFigureAndAllThreeAnimations()
    {
        using var dir = new TempDir();
        var result = TrainAndDraw("vae_2d", dir.Path);
        var folder = new RunFolder(dir.Path);
        Assert.Empty(result.Skipped);
        foreach (var figure in CommonFigures.Append("manifold.png").Append("kl_per_dim.png"))
            AssertPng(Path.Combine(folder.FiguresDir, figure), 400, 280);
        AssertPng(Path.Combine(folder.FiguresDir, "prior_and_posterior.png"), 1800, 870);   // two panels under one sentence
        AssertPng(Path.Combine(folder.FiguresDir, "posterior_fit.png"), 4 * 560, 70 + 150 + 560);   // four images' posteriors
        var fit = LatentLab.Analysis.PosteriorFit.ReadCsv(Path.Combine(folder.FiguresDir, "posterior_fit.csv"));
        Assert.NotNull(fit);
        Assert.Equal(50, fit.Value.Rows.Length);                                            // the slice has 100 test images
        Assert.Equal(5000, fit.Value.K);
        Assert.False(File.Exists(Path.Combine(folder.FiguresDir, "latent_tsne.png")));   // a 2-d code is its own picture
        AssertGif(Path.Combine(folder.AnimationsDir, "sampling.gif"), 24, 1040, 600);
        AssertGif(Path.Combine(folder.AnimationsDir, "interpolation.gif"), 40, 720, 840);
        // One epoch: the untrained codes, then the ones after epoch 1, with tween frames between.
        using var evolution = new MagickImageCollection(Path.Combine(folder.AnimationsDir, "latent_evolution.gif"));
        Assert.InRange(evolution.Count, 2, 120);
        AssertGif(Path.Combine(folder.AnimationsDir, "latent_evolution.gif"), evolution.Count, 820, 700);
        Assert.Equal(13, result.Written.Count);
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp*", SearchOption.AllDirectories));
    }

    [Fact]
    public void TwoLevelVaeGetsATraversalOfEachLayer()
    {
        using var dir = new TempDir();
        var result = TrainAndDraw("vae_2l", dir.Path, frames: 10);
        var folder = new RunFolder(dir.Path);
        foreach (var figure in CommonFigures.Append("latent_tsne.png").Append("layer_traversals.png"))
            AssertPng(Path.Combine(folder.FiguresDir, figure), 400, 280);
        // 150-d codes: no plane of its own, no closed-form KL per dimension, no posterior-fit picture.
        foreach (var absent in new[] { "manifold.png", "kl_per_dim.png", "posterior_fit.png", "prior_and_posterior.png" })
            Assert.False(File.Exists(Path.Combine(folder.FiguresDir, absent)), absent);
        Assert.Contains(result.Written, w => w.EndsWith("layer_traversals.png"));
    }

    [Fact]
    public void ThirtyTwoDimensionalAeGetsPcaTsneAndNoKlOrManifold()
    {
        using var dir = new TempDir();
        var result = TrainAndDraw("ae_32d", dir.Path, frames: 20);
        var folder = new RunFolder(dir.Path);
        foreach (var figure in CommonFigures.Append("latent_tsne.png"))
            AssertPng(Path.Combine(folder.FiguresDir, figure), 400, 300);
        Assert.False(File.Exists(Path.Combine(folder.FiguresDir, "manifold.png")));
        Assert.False(File.Exists(Path.Combine(folder.FiguresDir, "kl_per_dim.png")));
        Assert.False(File.Exists(Path.Combine(folder.AnimationsDir, "latent_evolution.gif")));
        AssertGif(Path.Combine(folder.AnimationsDir, "sampling.gif"), 20, 1040, 600);
        AssertGif(Path.Combine(folder.AnimationsDir, "interpolation.gif"), 40, 720, 840);
        Assert.Equal(8, result.Written.Count);
        // 32 dimensions: 32 histogram panels, 8 to a row.
        using var histograms = SKBitmap.Decode(Path.Combine(folder.FiguresDir, "latent_histograms.png"));
        Assert.Equal(8 * 300, histograms.Width);
    }

    [Fact]
    public void ChangedRectangleFindsExactlyThePixelsThatDiffer()
    {
        var before = new byte[10 * 6 * 4];
        var after = (byte[])before.Clone();
        Assert.Equal((0, 0, 1, 1), Gif.ChangedRectangle(before, after, 10, 6));
        after[(2 * 10 + 3) * 4 + 1] = 7;     // pixel (3, 2)
        after[(4 * 10 + 8) * 4 + 3] = 1;     // pixel (8, 4), alpha only
        Assert.Equal((3, 2, 6, 3), Gif.ChangedRectangle(before, after, 10, 6));
    }

    [Fact]
    public void TilesPutEachImageInItsCellScaled()
    {
        var pixels = new float[2 * 4];
        pixels[0] = 1f;                      // image 0: top-left pixel white
        pixels[4 + 3] = 0.5f;                // image 1: bottom-right pixel mid grey
        using var bitmap = ImageGrid.Tiles(pixels, new LatentLab.Data.ImageShape(1, 2, 2), columns: 2, scale: 3, gap: 1);
        Assert.Equal((2 * 6 + 3, 6 + 2), (bitmap.Width, bitmap.Height));
        Assert.Equal(255, bitmap.GetPixel(1, 1).Red);
        Assert.Equal(255, bitmap.GetPixel(3, 3).Red);
        Assert.Equal(0, bitmap.GetPixel(4, 4).Red);
        Assert.Equal(128, bitmap.GetPixel(7, 1).Red);     // the grey gap between tiles
        Assert.Equal(128, bitmap.GetPixel(8 + 5, 1 + 5).Red);
    }

    [Theory]
    [InlineData(0.5, 0.0, 1e-12)]
    [InlineData(0.975, 1.959963984540054, 1e-8)]      // reference values: scipy.stats.norm.ppf
    [InlineData(0.05, -1.6448536269514729, 1e-8)]
    [InlineData(0.001, -3.090232306167813, 2e-5)]     // the approximation's tail branch is coarser
    public void NormalQuantileMatchesKnownValues(double p, double z, double tolerance) =>
        Assert.Equal(z, Visualizer.NormalQuantile(p), tolerance);
}
