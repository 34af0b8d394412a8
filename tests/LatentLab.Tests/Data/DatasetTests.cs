using LatentLab.Data;

namespace LatentLab.Tests.Data;

public class DatasetTests
{
    static void CopyFixture(string target)
    {
        Directory.CreateDirectory(target);
        foreach (var f in Directory.GetFiles(Fixtures.MnistSliceFolder))
            File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
    }

    [Fact]
    public void LoadsEachSplitAsOneTensorScaledToTheUnitInterval()
    {
        using var data = Fixtures.MnistSlice();
        Assert.Equal(new long[] { 600, 1, 28, 28 }, data.TrainImages.shape);
        Assert.Equal(new long[] { 100, 1, 28, 28 }, data.TestImages.shape);
        Assert.Equal(new long[] { 600 }, data.TrainLabels.shape);
        Assert.Equal(0f, data.TrainImages.min().item<float>());
        Assert.Equal(1f, data.TrainImages.max().item<float>());
        Assert.Equal(5, data.TrainLabels[0].item<long>()); // MNIST's first training digit is a 5
        Assert.Equal(7, data.TestLabels[0].item<long>());  // and its first test digit a 7
    }

    [Fact]
    public void AManagedCopyWhoseChecksumDiffersIsRejectedNamingTheFile()
    {
        using var dir = new TempDir();
        // The fixture is a slice, so in the managed layout its checksums cannot match MNIST's.
        CopyFixture(dir["mnist"]);
        var files = DatasetFiles.Locate(DatasetCatalog.Mnist, dir.Path)!;
        Assert.True(files.Verified);
        var e = Assert.Throws<CorruptFileException>(() => Dataset.Load(files));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void TheUsersOwnFolderIsLoadedAndItsChecksumsRecorded()
    {
        var files = DatasetFiles.Locate(DatasetCatalog.Mnist, Fixtures.MnistSliceFolder)!;
        Assert.False(files.Verified);
        using var data = Dataset.Load(files);
        Assert.Equal(64, data.Sha256["train-images-idx3-ubyte"].Length);
    }

    [Fact]
    public void ContentChecksumEqualsTheChecksumOfTheUncompressedFile()
    {
        var path = Path.Combine(Fixtures.MnistSliceFolder, "t10k-labels-idx1-ubyte.gz");
        using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal(LatentLab.IO.Hashing.Sha256Hex(gzip), Dataset.ContentSha256(IdxReader.ReadFile(path)));
    }

    [Fact]
    public void LabelsThatDoNotMatchTheImagesAreRejected()
    {
        using var dir = new TempDir();
        CopyFixture(dir.Path);
        File.Copy(dir["t10k-labels-idx1-ubyte.gz"], dir["train-labels-idx1-ubyte.gz"], overwrite: true);
        var e = Assert.Throws<CorruptFileException>(() => Dataset.Load(DatasetFiles.Locate(DatasetCatalog.Mnist, dir.Path)!));
        Assert.Contains("100 labels for 600 images", e.Message);
    }

    [Fact]
    public void UnknownDatasetNamesAreUserErrors() =>
        Assert.Contains("known: mnist, fashion-mnist", Assert.Throws<LatentLabException>(() => DatasetCatalog.Get("cifar")).Message);
}
