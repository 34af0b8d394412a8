namespace LatentLab.Data;

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
        if (sha != ImagesSha256)
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
        if (sha != DspritesFiles.ImagesSha256)
            throw new CorruptFileException(path, $"SHA-256 {sha} does not match the generated dSprites' {DspritesFiles.ImagesSha256}; delete it and run 'latent data make dsprites'");
        // One float32 tensor holds a split: at most 2^31 values, 524,287 images of 4,096 pixels (8 GB).
        int most = Math.Min(Dsprites.Count - DspritesFiles.TestCount, 500_000);
        if (train is < 1 || train > most) throw new LatentLabException($"dSprites loads 1 to {most:N0} training images at a time, asked for {train:N0}");
        if (test is < 1 || test > DspritesFiles.TestCount) throw new LatentLabException($"dSprites has {DspritesFiles.TestCount:N0} test images, asked for {test:N0}");
        var order = DspritesFiles.Permutation();
        using var scope = TorchSharp.torch.NewDisposeScope();
        (TorchSharp.torch.Tensor Images, TorchSharp.torch.Tensor Factors) Split(int first, int count)
        {
            // Bytes first (a quarter of the floats' memory), made float32 by libtorch once.
            var pixels = new byte[(long)count * Dsprites.Pixels];
            var factors = new double[count * 5];
            Parallel.For(0, count, i =>
            {
                int index = order[first + i];
                Dsprites.Unpack(bytes.AsSpan(index * Dsprites.PackedBytes, Dsprites.PackedBytes), pixels.AsSpan(i * Dsprites.Pixels, Dsprites.Pixels));
                var f = Dsprites.FactorsOf(index);
                for (int k = 0; k < 5; k++) factors[i * 5 + k] = Dsprites.Value(k, f[k]);
            });
            using var asBytes = TorchSharp.torch.tensor(pixels, [count, 1, Dsprites.Side, Dsprites.Side], TorchSharp.torch.ScalarType.Byte);
            return (asBytes.to(TorchSharp.torch.ScalarType.Float32), TorchSharp.torch.tensor(factors, [count, 5]));
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
