using System.Buffers.Binary;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Data;

/// <summary>A dataset in memory: each split is one float32 image tensor [N, C, H, W] in [0, 1] and one int64 label
/// tensor [N]. A dataset without classes (a flat folder of images) has no class names and labels all 0.</summary>
public sealed class Dataset : IDisposable
{
    public string Name { get; }
    /// <summary>Class names in label order; empty when the images carry no labels.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    public bool HasLabels => ClassNames.Count > 0;
    /// <summary>The shape of one image.</summary>
    public ImageShape Shape { get; }
    /// <summary>The folder and decoding options, for a dataset read from a folder of images; null for IDX datasets.</summary>
    public ImageFolderSource? Folder { get; init; }
    /// <summary>SHA-256 of each uncompressed file, keyed by the standard file name.</summary>
    public IReadOnlyDictionary<string, string> Sha256 { get; }
    public Tensor TrainImages { get; }
    public Tensor TrainLabels { get; }
    public Tensor TestImages { get; }
    public Tensor TestLabels { get; }

    /// <summary>Known factors of variation of each image (dSprites' shape, scale, ...; a folder's factors.csv), or null:
    /// what the disentanglement scores read.</summary>
    public DatasetFactors? Factors { get; init; }

    public long TrainCount => TrainImages.shape[0];
    public long TestCount => TestImages.shape[0];

    public Dataset(string name, IReadOnlyList<string> classNames, IReadOnlyDictionary<string, string> sha256,
        Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels)
    {
        Name = name;
        ClassNames = classNames;
        Shape = new ImageShape((int)trainImages.shape[1], (int)trainImages.shape[2], (int)trainImages.shape[3]);
        Sha256 = sha256;
        TrainImages = trainImages.DetachFromDisposeScope();
        TrainLabels = trainLabels.DetachFromDisposeScope();
        TestImages = testImages.DetachFromDisposeScope();
        TestLabels = testLabels.DetachFromDisposeScope();
    }

    /// <summary>Reads and checks the four files; known datasets in the managed layout must match their checksums.</summary>
    public static Dataset Load(DatasetFiles files)
    {
        var sha = new Dictionary<string, string>();
        IdxArray Read(DatasetPart part)
        {
            var file = files.Spec.File(part);
            var path = files.Paths[part];
            var array = IdxReader.ReadFile(path);
            var digest = ContentSha256(array);
            if (files.Verified && digest != file.Sha256)
                throw new CorruptFileException(path, $"SHA-256 {digest} does not match {files.Spec.Name}'s {file.Sha256}; delete it and run 'latent data fetch {files.Spec.Name}'");
            sha[file.FileName] = digest;
            return array;
        }

        var trainImages = Read(DatasetPart.TrainImages);
        var trainLabels = Read(DatasetPart.TrainLabels);
        var testImages = Read(DatasetPart.TestImages);
        var testLabels = Read(DatasetPart.TestLabels);
        CheckPair(files, DatasetPart.TrainImages, trainImages, DatasetPart.TrainLabels, trainLabels);
        CheckPair(files, DatasetPart.TestImages, testImages, DatasetPart.TestLabels, testLabels);

        return FromBytes(files.Spec.Name, files.Spec.ClassNames, sha,
            trainImages.Data, trainLabels.Data, testImages.Data, testLabels.Data);
    }

    /// <summary>Builds a dataset from raw 8-bit 28 x 28 grey pixels (N x 784, row-major) and labels.</summary>
    public static Dataset FromBytes(string name, IReadOnlyList<string> classNames, IReadOnlyDictionary<string, string> sha256,
        byte[] trainImages, byte[] trainLabels, byte[] testImages, byte[] testLabels)
    {
        using var scope = NewDisposeScope();
        return new Dataset(name, classNames, sha256,
            Images(trainImages), Labels(trainLabels), Images(testImages), Labels(testLabels));

        static Tensor Images(byte[] pixels) =>
            tensor(pixels, ImageShape.Mnist.TensorShape(pixels.Length / ImageShape.Mnist.Pixels), ScalarType.Byte).to(ScalarType.Float32).div_(255f);
        static Tensor Labels(byte[] labels) => tensor(labels, [labels.Length], ScalarType.Byte).to(ScalarType.Int64);
    }

    /// <summary>A dataset of the first <paramref name="trainCount"/> and <paramref name="testCount"/> images.</summary>
    public Dataset Slice(long trainCount, long testCount)
    {
        using var scope = NewDisposeScope();
        long train = Math.Min(trainCount, TrainCount), test = Math.Min(testCount, TestCount);
        return new Dataset(Name, ClassNames, Sha256,
            TrainImages.narrow(0, 0, train).clone(), TrainLabels.narrow(0, 0, train).clone(),
            TestImages.narrow(0, 0, test).clone(), TestLabels.narrow(0, 0, test).clone())
        {
            Folder = Folder,
            Factors = Factors is { } f ? new DatasetFactors(f.Names, f.Train.narrow(0, 0, train).clone().DetachFromDisposeScope(), f.Test.narrow(0, 0, test).clone().DetachFromDisposeScope()) : null,
        };
    }

    /// <summary>SHA-256 of the uncompressed IDX file the array came from (header rebuilt from the shape).</summary>
    public static string ContentSha256(IdxArray array)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var header = new byte[4 + 4 * array.Shape.Length];
        header[2] = 0x08;
        header[3] = (byte)array.Shape.Length;
        for (int i = 0; i < array.Shape.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), array.Shape[i]);
        hash.AppendData(header);
        hash.AppendData(array.Data);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    static void CheckPair(DatasetFiles files, DatasetPart imagesPart, IdxArray images, DatasetPart labelsPart, IdxArray labels)
    {
        var imagesPath = files.Paths[imagesPart];
        var labelsPath = files.Paths[labelsPart];
        if (images.Shape.Length != 3 || images.Shape[1] != ImageShape.Mnist.Height || images.Shape[2] != ImageShape.Mnist.Width)
            throw new CorruptFileException(imagesPath, $"images must have shape [N, 28, 28], found [{string.Join(", ", images.Shape)}]");
        if (labels.Shape.Length != 1)
            throw new CorruptFileException(labelsPath, $"labels must have shape [N], found [{string.Join(", ", labels.Shape)}]");
        if (labels.Shape[0] != images.Shape[0])
            throw new CorruptFileException(labelsPath, $"{labels.Shape[0]:N0} labels for {images.Shape[0]:N0} images in {Path.GetFileName(imagesPath)}");
        int classes = files.Spec.ClassNames.Count;
        int bad = Array.FindIndex(labels.Data, l => l >= classes);
        if (bad >= 0)
            throw new CorruptFileException(labelsPath, $"label {labels.Data[bad]} at index {bad} is outside 0..{classes - 1}");
    }

    public void Dispose()
    {
        TrainImages.Dispose();
        TrainLabels.Dispose();
        TestImages.Dispose();
        TestLabels.Dispose();
        Factors?.Train.Dispose();
        Factors?.Test.Dispose();
    }
}

/// <summary>The factors of each image of both splits: [N, K] float64 values (a factor's own numbers: a scale of 0.5..1, a
/// position of 0..1), named.</summary>
public sealed record DatasetFactors(IReadOnlyList<string> Names, Tensor Train, Tensor Test);
