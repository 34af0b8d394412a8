using System.Security.Cryptography;
using LatentLab.Cli;

namespace LatentLab.Tests.Cli;

/// <summary>A results root holding one trained model (ae_2d on the committed MNIST slice), shared by the matrix.</summary>
public sealed class TrainedRootFixture : IDisposable
{
    public TempDir Dir { get; } = new();
    public string Out => Dir["results"];
    public string AFile => Dir["a-file.txt"];

    public TrainedRootFixture()
    {
        File.WriteAllText(AFile, "not a folder");
        var result = PathMatrixTests.Run(["train", "--model", "ae_2d", "--epochs", "1", "--iwae-k", "0", "--out", Out, "--data-dir", Fixtures.MnistSliceFolder]);
        if (result.Exit != 0) throw new InvalidOperationException("fixture training failed: " + result.Error);
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>Every command, each of its path options, each kind of bad path: the exit code, exactly one line on stderr,
/// no stack trace, and nothing in the results root changed. Names with spaces and non-ASCII letters must work.</summary>
public class PathMatrixTests(TrainedRootFixture root) : IClassFixture<TrainedRootFixture>
{
    internal static (int Exit, string Out, string Error) Run(string[] args) => LatentCommand.Run(args);

    /// <summary>The command lines without the path options; each case adds its own, and the defaults below for the rest.</summary>
    static readonly Dictionary<string, string[]> Commands = new()
    {
        ["train"] = ["train", "--model", "ae_2d", "--epochs", "1", "--train-size", "64", "--test-size", "32", "--iwae-k", "0"],
        ["evaluate"] = ["evaluate", "--model", "ae_2d", "--iwae-k", "0"],
        ["visualize"] = ["visualize", "--model", "ae_2d", "--tsne-points", "50", "--frames", "10"],
        ["compare"] = ["compare", "--models", "ae_2d", "--epochs", "1", "--iwae-k", "0", "--tsne-points", "50"],
        ["data"] = ["data", "fetch", "mnist"],
    };

    static readonly Dictionary<string, string[]> OptionsOf = new()
    {
        ["train"] = ["--out", "--data-dir", "--dataset"],
        ["evaluate"] = ["--out", "--data-dir", "--dataset"],
        ["visualize"] = ["--out", "--data-dir", "--dataset"],
        ["compare"] = ["--out", "--data-dir", "--dataset"],
        ["data"] = ["--data-dir"],
    };

    public static TheoryData<string, string, string> BadCases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var (command, options) in OptionsOf)
            foreach (var option in options)
                foreach (var kind in new[] { "file-for-folder", "unwritable", "missing-parent" })
                {
                    // A missing parent of --out is created for the commands that write a new run, and of --data-dir a
                    // fetch would fill it: those are not errors (the good cases below cover creating --out).
                    if (kind == "missing-parent" && (option == "--data-dir" || option == "--out" && command is "train" or "compare")) continue;
                    cases.Add(command, option, kind);
                }
        return cases;
    }

    string BadPath(string kind) => kind switch
    {
        "file-for-folder" => root.AFile,
        "unwritable" => "/proc/latentlab-test/results",
        "missing-parent" => root.Dir["no/such/parent/folder"],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    string[] CommandLine(string command, string option, string value)
    {
        var args = new List<string>(Commands[command]) { option, value };
        if (option != "--out" && command != "data") args.AddRange(["--out", root.Out]);
        if (option != "--data-dir") args.AddRange(["--data-dir", Fixtures.MnistSliceFolder]);
        return args.ToArray();
    }

    static string TreeHash(string folder)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, file) + "\n"));
            sha.AppendData(File.ReadAllBytes(file));
        }
        foreach (var dir in Directory.GetDirectories(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes("dir " + Path.GetRelativePath(folder, dir) + "\n"));
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    [Theory, MemberData(nameof(BadCases))]
    public void ABadPathIsOneLineAndChangesNothing(string command, string option, string kind)
    {
        var before = TreeHash(root.Out);
        var result = Run(CommandLine(command, option, BadPath(kind)));
        Assert.True(result.Exit == ExitCodes.BadInput, $"exit {result.Exit}: {result.Error}");
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.Error}");
        Assert.StartsWith("latent: ", lines[0]);
        Assert.DoesNotContain("Unhandled exception", result.Error + result.Out);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Equal(before, TreeHash(root.Out));
        Assert.False(File.Exists(root.Dir["no/such/parent/folder"]) || Directory.Exists(root.Dir["no/such/parent"]), "a missing parent was created for a refused command");
    }

    [Fact]
    public void NamesWithSpacesAndNonAsciiLettersWork()
    {
        using var dir = new TempDir();
        // --data-dir: a copy of the slice in a folder whose name has spaces and accents.
        var data = Directory.CreateDirectory(dir["données à tester"]).FullName;
        foreach (var file in Directory.GetFiles(Fixtures.MnistSliceFolder)) File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        var output = dir["résultats de l'été"];
        string[] common = ["--out", output, "--data-dir", data];
        var train = Run([.. Commands["train"], .. common]);
        Assert.True(train.Exit == 0, train.Error);
        var evaluate = Run([.. Commands["evaluate"], .. common]);
        Assert.True(evaluate.Exit == 0, evaluate.Error);
        Assert.True(File.Exists(Path.Combine(output, "mnist", "ae_2d", "metrics.json")));

        // --dataset: a folder of images with such a name, and --out created with its missing parents.
        ImageFolders.WriteColorShapes(dir["formes colorées"], perClass: 4);
        var nested = dir["nouveau/dossier/sorties"];
        var folder = Run(["train", "--model", "ae_2d", "--epochs", "1", "--iwae-k", "0", "--dataset", dir["formes colorées"], "--out", nested, "--data-dir", data]);
        Assert.True(folder.Exit == 0, folder.Error);
        Assert.True(File.Exists(Path.Combine(nested, "formes-colorées", "ae_2d", "model.safetensors")));
    }
}
