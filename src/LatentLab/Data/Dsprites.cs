namespace LatentLab.Data;

/// <summary>dSprites (Matthey, Higgins, Hassabis, Lerchner 2017), generated: 64 x 64 binary images of a square, an ellipse
/// or a heart at every combination of 6 scales, 40 orientations and 32 x 32 positions, 737,280 images in the original's
/// order (the last factor fastest), each with its five factors. No registry here ships the original, and it is
/// synthetic, so LatentLab renders it with the rasteriser below; the images are not the original's pixels (its shapes
/// were drawn by other code), the factors and their values are.</summary>
/// <remarks>
/// The rasteriser: a pixel is on when its centre lies inside the shape. A shape lives in its own frame [-1, 1]^2: the
/// square |u|, |v| &lt;= 1; the ellipse u^2 + (v / 0.5)^2 &lt;= 1; the heart (a^2 + b^2 - 1)^3 - a^2 b^3 &lt;= 0 with
/// a = 1.15 u, b = 1.15 v + 0.12 (the classic heart curve, its bounding box centred). The frame is scaled by
/// <see cref="HalfSize"/> x scale pixels, rotated counter-clockwise by the orientation, and centred at
/// (<see cref="Margin"/> + x (64 - 2 <see cref="Margin"/>), the same for y), y down the rows, so every shape at scale 1
/// touches no edge but the heart's and the square's corners when rotated at the extreme positions.
/// </remarks>
public static class Dsprites
{
    public const int Side = 64;
    public const int Pixels = Side * Side;
    /// <summary>Bytes per image in the packed file: one bit per pixel, row-major, the first pixel in the top bit.</summary>
    public const int PackedBytes = Pixels / 8;
    public const double HalfSize = 10;
    public const double Margin = 10;

    public static readonly IReadOnlyList<string> FactorNames = ["shape", "scale", "orientation", "position_x", "position_y"];
    public static readonly IReadOnlyList<string> ShapeNames = ["square", "ellipse", "heart"];
    /// <summary>Values per factor: 3 shapes, 6 scales, 40 orientations, 32 x positions, 32 y positions.</summary>
    public static readonly int[] Sizes = [3, 6, 40, 32, 32];
    public static readonly int Count = Sizes.Aggregate(1, (a, b) => a * b);

    /// <summary>The factor values of index i of a factor (the original's): shape 0, 1, 2; scale 0.5..1 in 6 steps;
    /// orientation 0..2 pi in 40 steps (both ends included, as in the original); positions 0..1 in 32 steps.</summary>
    public static double Value(int factor, int i) => factor switch
    {
        0 => i,
        1 => 0.5 + 0.1 * i,
        2 => 2 * Math.PI * i / 39,
        3 or 4 => i / 31.0,
        _ => throw new ArgumentOutOfRangeException(nameof(factor)),
    };

    /// <summary>The five factor indices of image <paramref name="index"/> in the product order.</summary>
    public static int[] FactorsOf(int index)
    {
        var factors = new int[Sizes.Length];
        for (int k = Sizes.Length - 1; k >= 0; k--)
        {
            factors[k] = index % Sizes[k];
            index /= Sizes[k];
        }
        return factors;
    }

    public static int IndexOf(IReadOnlyList<int> factors)
    {
        int index = 0;
        for (int k = 0; k < Sizes.Length; k++) index = index * Sizes[k] + factors[k];
        return index;
    }

    /// <summary>The image of factor indices <paramref name="factors"/>: 4096 pixels, 0 or 1, row-major.</summary>
    public static void Render(IReadOnlyList<int> factors, Span<byte> pixels)
    {
        pixels.Clear();
        int shape = factors[0];
        double h = HalfSize * Value(1, factors[1]), angle = Value(2, factors[2]);
        double cx = Margin + Value(3, factors[3]) * (Side - 2 * Margin), cy = Margin + Value(4, factors[4]) * (Side - 2 * Margin);
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        // Every shape lies within radius sqrt(2) of its frame's centre; only pixels that near are tested.
        double reach = h * Math.Sqrt(2) + 1;
        int rowFrom = Math.Max(0, (int)(cy - reach)), rowTo = Math.Min(Side - 1, (int)(cy + reach) + 1);
        int colFrom = Math.Max(0, (int)(cx - reach)), colTo = Math.Min(Side - 1, (int)(cx + reach) + 1);
        for (int row = rowFrom; row <= rowTo; row++)
            for (int col = colFrom; col <= colTo; col++)
            {
                // The pixel centre in the shape's frame: y up, the rotation undone, the scale divided out.
                double x = col + 0.5 - cx, y = -(row + 0.5 - cy);
                double u = (cos * x + sin * y) / h, v = (-sin * x + cos * y) / h;
                if (Inside(shape, u, v)) pixels[row * Side + col] = 1;
            }
    }

    static bool Inside(int shape, double u, double v)
    {
        switch (shape)
        {
            case 0: return Math.Abs(u) <= 1 && Math.Abs(v) <= 1;
            case 1: return u * u + 4 * v * v <= 1;
            case 2:
                double a = 1.15 * u, b = 1.15 * v + 0.12, r = a * a + b * b - 1;
                return r * r * r - a * a * b * b * b <= 0;
            default: throw new ArgumentOutOfRangeException(nameof(shape));
        }
    }

    /// <summary>Packs 4096 pixels into 512 bytes, the first pixel in the top bit of the first byte.</summary>
    public static void Pack(ReadOnlySpan<byte> pixels, Span<byte> packed)
    {
        packed.Clear();
        for (int p = 0; p < Pixels; p++)
            if (pixels[p] != 0) packed[p >> 3] |= (byte)(0x80 >> (p & 7));
    }

    public static void Unpack(ReadOnlySpan<byte> packed, Span<float> pixels)
    {
        for (int p = 0; p < Pixels; p++) pixels[p] = (packed[p >> 3] >> (7 - (p & 7)) & 1);
    }

    /// <summary>All 737,280 images packed in product order (377 MB), rendered on all cores; progress in images done.</summary>
    public static byte[] RenderAll(IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var all = new byte[(long)Count * PackedBytes];
        int done = 0;
        const int chunk = 4096;
        Parallel.For(0, (Count + chunk - 1) / chunk, new ParallelOptions { CancellationToken = cancel }, c =>
        {
            Span<byte> pixels = stackalloc byte[Pixels];
            int end = Math.Min(Count, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i++)
            {
                Render(FactorsOf(i), pixels);
                Pack(pixels, all.AsSpan(i * PackedBytes, PackedBytes));
            }
            progress?.Report(Interlocked.Add(ref done, end - c * chunk));
        });
        return all;
    }
}

/// <summary>The generated dSprites on disk, <c>DATA/dsprites/</c>: <c>dsprites-images.bin</c> (all 737,280 images, one bit
/// a pixel, 512 bytes each, in product order, checked by SHA-256 like the downloaded datasets) and
/// <c>factors.safetensors</c> (<c>factors</c> [N, 5] float32: each image's shape, scale, orientation and positions as
/// values, <c>indices</c> [N, 5] int64 as indices), written once by <c>latent data make dsprites</c> or on first use.</summary>
public static class DspritesFiles
{
    public const string Name = "dsprites";
    public const string ImagesFile = "dsprites-images.bin";
    public const string FactorsFile = "factors.safetensors";
    /// <summary>SHA-256 of <see cref="ImagesFile"/> as the rasteriser of <see cref="Dsprites"/> renders it.</summary>
    public const string ImagesSha256 = "34452d4391e166d7ddfc60d8d213d441b203fbe7ca445bc765089662126fb940";
    /// <summary>The seeded split: a permutation of the 737,280 images (seed 0); its first tenth is the test split.</summary>
    public const int SplitSeed = 0;
    public static readonly int TestCount = Dsprites.Count / 10;
    /// <summary>The images a dataset loads by default, the first of each split's permuted order: MNIST's sizes.</summary>
    public const int DefaultTrain = 60_000, DefaultTest = 10_000;

    public static string Folder(string dataRoot) => Path.Combine(dataRoot, Name);

    public static bool Exist(string dataRoot) =>
        File.Exists(Path.Combine(Folder(dataRoot), ImagesFile)) && File.Exists(Path.Combine(Folder(dataRoot), FactorsFile));

    /// <summary>Renders and writes both files (each atomically: a reader never sees half of one).</summary>
    public static void Make(string dataRoot, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var images = Dsprites.RenderAll(progress, cancel);
        string sha = IO.Hashing.Sha256Hex(images);
        if (ImagesSha256 != "TO-BE-MEASURED" && sha != ImagesSha256)
            throw new LatentLabException($"the rendered dSprites has SHA-256 {sha}, not the {ImagesSha256} this version renders: the rasteriser changed");
        string folder = Folder(dataRoot);
        IO.AtomicFile.WriteAllBytes(Path.Combine(folder, ImagesFile), images);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var values = new float[(long)Dsprites.Count * 5];
        var indices = new long[(long)Dsprites.Count * 5];
        for (int i = 0; i < Dsprites.Count; i++)
        {
            var f = Dsprites.FactorsOf(i);
            for (int k = 0; k < 5; k++) { indices[i * 5 + k] = f[k]; values[i * 5 + k] = (float)Dsprites.Value(k, f[k]); }
        }
        WriteExamples(Path.Combine(folder, ExamplesFile));
        var path = Path.Combine(folder, FactorsFile);
        IO.SafeTensors.Write(path, [("factors", TorchSharp.torch.tensor(values, [Dsprites.Count, 5])), ("indices", TorchSharp.torch.tensor(indices, [Dsprites.Count, 5]))],
            new Dictionary<string, string> { ["names"] = string.Join(",", Dsprites.FactorNames), ["images_sha256"] = sha });
    }

    public const string ExamplesFile = "examples.png";

    /// <summary>A picture of what was generated: a row per shape; across it, each factor moved in turn from a middle
    /// image (scale, then orientation, then x, then y, three values each).</summary>
    static void WriteExamples(string path)
    {
        int[] middle = [0, 5, 0, 16, 16];
        var rows = new List<int[]>();
        for (int shape = 0; shape < 3; shape++)
            foreach (var (factor, values) in new[] { (1, new[] { 0, 2, 5 }), (2, new[] { 0, 5, 10 }), (3, new[] { 0, 16, 31 }), (4, new[] { 0, 16, 31 }) })
                foreach (var v in values)
                {
                    var f = (int[])middle.Clone();
                    f[0] = shape;
                    f[factor] = v;
                    rows.Add(f);
                }
        var pixels = new float[rows.Count * Dsprites.Pixels];
        var image = new byte[Dsprites.Pixels];
        for (int i = 0; i < rows.Count; i++)
        {
            Dsprites.Render(rows[i], image);
            for (int p = 0; p < Dsprites.Pixels; p++) pixels[i * Dsprites.Pixels + p] = image[p];
        }
        using var bitmap = ImageGrid.Tiles(pixels, new ImageShape(1, Dsprites.Side, Dsprites.Side), columns: 12, scale: 2, gap: 2);
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>The seeded permutation of all images: test split first (<see cref="TestCount"/>), then the training split.</summary>
    public static int[] Permutation()
    {
        var order = Enumerable.Range(0, Dsprites.Count).ToArray();
        new Random(SplitSeed).Shuffle(order);
        return order;
    }
}

public static class DspritesLoader
{
    /// <summary>The first <paramref name="train"/> and <paramref name="test"/> images of each split's seeded order, with
    /// their factors; the images file checked against its SHA-256 first.</summary>
    public static Dataset Load(string dataRoot, int train = DspritesFiles.DefaultTrain, int test = DspritesFiles.DefaultTest)
    {
        string folder = DspritesFiles.Folder(dataRoot), path = Path.Combine(folder, DspritesFiles.ImagesFile);
        if (!DspritesFiles.Exist(dataRoot)) throw new LatentLabException($"{folder}: no generated dSprites; run 'latent data make dsprites'");
        var bytes = File.ReadAllBytes(path);
        if (bytes.LongLength != (long)Dsprites.Count * Dsprites.PackedBytes)
            throw new CorruptFileException(path, $"{bytes.LongLength:N0} bytes, not the {(long)Dsprites.Count * Dsprites.PackedBytes:N0} of {Dsprites.Count:N0} packed images; delete it and run 'latent data make dsprites'");
        string sha = IO.Hashing.Sha256Hex(bytes);
        if (DspritesFiles.ImagesSha256 != "TO-BE-MEASURED" && sha != DspritesFiles.ImagesSha256)
            throw new CorruptFileException(path, $"SHA-256 {sha} does not match the generated dSprites' {DspritesFiles.ImagesSha256}; delete it and run 'latent data make dsprites'");
        // One float32 tensor holds a split: at most 2^31 values, 524,287 images of 4,096 pixels (8 GB).
        int most = Math.Min(Dsprites.Count - DspritesFiles.TestCount, 500_000);
        if (train is < 1 || train > most) throw new LatentLabException($"dSprites loads 1 to {most:N0} training images at a time, asked for {train:N0}");
        if (test is < 1 || test > DspritesFiles.TestCount) throw new LatentLabException($"dSprites has {DspritesFiles.TestCount:N0} test images, asked for {test:N0}");
        var order = DspritesFiles.Permutation();
        using var scope = TorchSharp.torch.NewDisposeScope();
        (TorchSharp.torch.Tensor Images, TorchSharp.torch.Tensor Factors) Split(int first, int count)
        {
            var pixels = new float[(long)count * Dsprites.Pixels];
            var factors = new double[count * 5];
            Parallel.For(0, count, i =>
            {
                int index = order[first + i];
                Dsprites.Unpack(bytes.AsSpan(index * Dsprites.PackedBytes, Dsprites.PackedBytes), pixels.AsSpan(i * Dsprites.Pixels, Dsprites.Pixels));
                var f = Dsprites.FactorsOf(index);
                for (int k = 0; k < 5; k++) factors[i * 5 + k] = Dsprites.Value(k, f[k]);
            });
            return (TorchSharp.torch.tensor(pixels, [count, 1, Dsprites.Side, Dsprites.Side]), TorchSharp.torch.tensor(factors, [count, 5]));
        }
        var (testImages, testFactors) = Split(0, test);
        var (trainImages, trainFactors) = Split(DspritesFiles.TestCount, train);
        // Labels: the shape, the one categorical factor, so the label-coloured pictures colour by it.
        TorchSharp.torch.Tensor Shapes(TorchSharp.torch.Tensor factors) => factors.select(1, 0).to(TorchSharp.torch.ScalarType.Int64);
        return new Dataset(DspritesFiles.Name, Dsprites.ShapeNames, new Dictionary<string, string> { [DspritesFiles.ImagesFile] = sha },
            trainImages, Shapes(trainFactors), testImages, Shapes(testFactors))
        {
            Factors = new DatasetFactors(Dsprites.FactorNames, trainFactors.DetachFromDisposeScope(), testFactors.DetachFromDisposeScope()),
        };
    }
}
