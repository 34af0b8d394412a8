using LatentLab.Data;
using Xunit.Abstractions;

namespace LatentLab.Tests.Data;

/// <summary>The generated dSprites against its factor table: each rendered image's pixel count is its shape's area at its
/// scale, its centre of mass is its position.</summary>
public class DspritesTests(ITestOutputHelper output)
{
    /// <summary>A shape's area and centre of mass in its own frame, by brute force on a 2,000 x 2,000 grid over [-1.5, 1.5]^2.</summary>
    static (double Area, double U, double V) Frame(int shape)
    {
        var pixels = new byte[Dsprites.Pixels];
        // Rendered at scale 1, orientation 0, centre position, the frame's area is HalfSize^2 times this one.
        const int n = 2000;
        double step = 3.0 / n, area = 0, u = 0, v = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double a = -1.5 + (i + 0.5) * step, b = -1.5 + (j + 0.5) * step;
                if (InsideByDefinition(shape, a, b)) { area += step * step; u += a * step * step; v += b * step * step; }
            }
        return (area, u / area, v / area);
    }

    // The shapes as the documentation of Dsprites defines them, written here again.
    static bool InsideByDefinition(int shape, double u, double v) => shape switch
    {
        0 => Math.Max(Math.Abs(u), Math.Abs(v)) <= 1,
        1 => u * u + (v / 0.5) * (v / 0.5) <= 1,
        _ => Math.Pow((1.15 * u) * (1.15 * u) + (1.15 * v + 0.12) * (1.15 * v + 0.12) - 1, 3) - (1.15 * u) * (1.15 * u) * Math.Pow(1.15 * v + 0.12, 3) <= 0,
    };

    [Theory]
    [InlineData(0, 0, 0, 16, 16)]
    [InlineData(0, 5, 7, 3, 28)]
    [InlineData(1, 2, 13, 20, 9)]
    [InlineData(1, 5, 30, 16, 16)]
    [InlineData(2, 3, 0, 10, 22)]
    [InlineData(2, 5, 25, 25, 5)]
    public void AnImagesPixelsAreItsShapeAtItsScaleAndPosition(int shape, int scale, int orientation, int x, int y)
    {
        int[] factors = [shape, scale, orientation, x, y];
        int index = Dsprites.IndexOf(factors);
        Assert.Equal(factors, Dsprites.FactorsOf(index));
        var pixels = new byte[Dsprites.Pixels];
        Dsprites.Render(factors, pixels);
        double count = 0, rows = 0, cols = 0;
        for (int p = 0; p < pixels.Length; p++)
            if (pixels[p] == 1) { count++; rows += p / 64 + 0.5; cols += p % 64 + 0.5; }
        var (area, u, v) = Frame(shape);
        double h = Dsprites.HalfSize * Dsprites.Value(1, scale), angle = Dsprites.Value(2, orientation);
        double expectedArea = area * h * h;
        double cx = Dsprites.Margin + Dsprites.Value(3, x) * (64 - 2 * Dsprites.Margin), cy = Dsprites.Margin + Dsprites.Value(4, y) * (64 - 2 * Dsprites.Margin);
        // The frame's centre of mass, scaled, rotated counter-clockwise, y down the rows.
        double expectedCol = cx + h * (Math.Cos(angle) * u - Math.Sin(angle) * v);
        double expectedRow = cy - h * (Math.Sin(angle) * u + Math.Cos(angle) * v);
        output.WriteLine($"{Dsprites.ShapeNames[shape]}: {count} pixels against area {expectedArea:F1}; centre ({cols / count:F2}, {rows / count:F2}) against ({expectedCol:F2}, {expectedRow:F2})");
        // Only pixels the outline crosses can err, each by less than one, with both signs: about sqrt(perimeter) in all.
        // 3 + 6 % of the area holds for the smallest (scale 0.5, 5 px half-size, 40 px of outline).
        Assert.True(Math.Abs(count - expectedArea) <= 3 + 0.06 * expectedArea, $"{count} pixels for an area of {expectedArea}");
        // The centre of mass of the lit pixel centres: within half a pixel of the shape's.
        Assert.True(Math.Abs(cols / count - expectedCol) < 0.5 && Math.Abs(rows / count - expectedRow) < 0.5,
            $"centre ({cols / count}, {rows / count}) against ({expectedCol}, {expectedRow})");
    }

    /// <summary>The files written hash to the SHA-256 the loader checks (Make refuses otherwise: the rasteriser gives the
    /// same bits on this CPU as where the value was measured, with only IEEE arithmetic and .NET's sine and cosine), and
    /// a loaded image is the one its loaded factors render.</summary>
    [Fact]
    public void TheGeneratedFilesLoadWithTheirFactors()
    {
        using var dir = new TempDir();
        DspritesFiles.Make(dir.Path);
        Assert.Equal(DspritesFiles.ImagesSha256, LatentLab.IO.Hashing.FileSha256(Path.Combine(dir.Path, "dsprites", DspritesFiles.ImagesFile)));
        using var data = DspritesLoader.Load(dir.Path, train: 200, test: 100);
        Assert.Equal(new long[] { 100, 5 }, data.Factors!.Test.shape);
        Assert.Equal(Dsprites.FactorNames, data.Factors.Names);
        var rendered = new byte[Dsprites.Pixels];
        foreach (var (images, factors) in new[] { (data.TrainImages, data.Factors.Train), (data.TestImages, data.Factors.Test) })
            for (int i = 0; i < 20; i++)
            {
                var values = factors[i].data<double>().ToArray();
                int[] indices = [.. Enumerable.Range(0, 5).Select(k => Enumerable.Range(0, Dsprites.Sizes[k]).Single(j => Math.Abs(Dsprites.Value(k, j) - values[k]) < 1e-9))];
                Dsprites.Render(indices, rendered);
                Assert.Equal(rendered.Select(b => (float)b), images[i].flatten().data<float>().ToArray());
            }
        // The split: test images are none of the training images' indices (the first tenth of one seeded permutation).
        var order = DspritesFiles.Permutation();
        Assert.Empty(order.Take(DspritesFiles.TestCount).Intersect(order.Skip(DspritesFiles.TestCount).Take(1000)));
    }

    [Fact]
    public async Task ATruncatedImagesFileIsOneLineNamingIt()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["data/dsprites"]);
        File.WriteAllBytes(dir["data/dsprites/dsprites-images.bin"], new byte[Dsprites.PackedBytes * 10]);
        File.WriteAllBytes(dir["data/dsprites/factors.safetensors"], [0]);
        var (exit, _, error) = await LatentCommand.RunAsync(["train", "--model", "vae_32d", "--dataset", "dsprites", "--epochs", "1",
            "--data-dir", dir["data"], "--out", dir["out"]]);
        Assert.Equal(2, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("dsprites-images.bin: 5,120 bytes, not the 377,487,360", line);
        Assert.False(Directory.Exists(dir["out/dsprites"]), "nothing is written for a run that could not start");
    }

    [Fact]
    public void TheImagesAreBinaryAndPackAndUnpackToThemselves()
    {
        var pixels = new byte[Dsprites.Pixels];
        var packed = new byte[Dsprites.PackedBytes];
        var back = new byte[Dsprites.Pixels];
        foreach (int index in new[] { 0, 12_345, Dsprites.Count - 1 })
        {
            Dsprites.Render(Dsprites.FactorsOf(index), pixels);
            Assert.All(pixels, p => Assert.True(p is 0 or 1));
            Dsprites.Pack(pixels, packed);
            Dsprites.Unpack(packed, back);
            Assert.Equal(pixels, back);
        }
        Assert.Equal(737_280, Dsprites.Count);
    }
}
