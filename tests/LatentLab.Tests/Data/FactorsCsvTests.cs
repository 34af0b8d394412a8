using LatentLab.Data;
using static TorchSharp.torch;

namespace LatentLab.Tests.Data;

/// <summary>A folder's factors.csv: its factors reach the dataset beside the right images and the evaluation scores
/// them; each kind of bad file is one line naming the file and the row, exit 2.</summary>
public class FactorsCsvTests
{
    /// <summary>Thirty shapes (three classes, ten each) and a factors.csv giving each image its class and its number.</summary>
    internal static string Folder(TempDir dir, Func<string, int, int, string>? row = null)
    {
        ImageFolders.WriteColorShapes(dir["shapes"], perClass: 10);
        var lines = new List<string> { "file,kind,number" };
        string[] classes = ["discs", "squares", "triangles"];
        for (int c = 0; c < 3; c++)
            foreach (var file in Directory.GetFiles(dir[$"shapes/{classes[c]}"]).Order(StringComparer.Ordinal))
            {
                string relative = $"{classes[c]}/{Path.GetFileName(file)}";
                int number = int.Parse(Path.GetFileNameWithoutExtension(file).Split('-')[1]);
                lines.Add(row?.Invoke(relative, c, number) ?? $"{relative},{c},{number}");
            }
        File.WriteAllLines(dir["shapes/factors.csv"], lines);
        return dir["shapes"];
    }

    [Fact]
    public void TheFactorsReachTheDatasetBesideTheirImages()
    {
        using var dir = new TempDir();
        using var data = ImageFolder.Load(Folder(dir), new ImageFolderOptions(), dir["data"]);
        var factors = Assert.IsType<DatasetFactors>(data.Factors);
        Assert.Equal(["kind", "number"], factors.Names);
        Assert.Equal(new long[] { data.TrainCount, 2 }, factors.Train.shape);
        // The class is a factor here, so its column equals the labels, split for split.
        Assert.True(factors.Train.select(1, 0).to(ScalarType.Int64).equal(data.TrainLabels).all().item<bool>());
        Assert.True(factors.Test.select(1, 0).to(ScalarType.Int64).equal(data.TestLabels).all().item<bool>());
        using var slice = data.Slice(5, 2);
        Assert.Equal(new long[] { 2, 2 }, slice.Factors!.Test.shape);
    }

    [Fact]
    public async Task EvaluatingAModelOnAFolderWithFactorsScoresItsCodes()
    {
        using var dir = new TempDir();
        var folder = Folder(dir);
        var (exit, _, error) = await LatentCommand.RunAsync(["train", "--model", "vae_2d", "--dataset", folder, "--epochs", "1", "--image-size", "16",
            "--test-fraction", "0.4", "--no-tensorboard", "--data-dir", dir["data"], "--out", dir["out"]]);
        Assert.True(exit == 0, error);
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["out/shapes/vae_2d/metrics.json"])).RootElement;
        var scores = metrics.GetProperty("disentanglement");
        Assert.Equal(["kind", "number"], scores.GetProperty("factors").EnumerateArray().Select(e => e.GetString()));
        Assert.InRange(scores.GetProperty("mig").GetDouble(), 0, 1);
        Assert.Equal(2, scores.GetProperty("mutual_information").GetArrayLength());       // one row per code dimension
    }

    [Fact]
    public async Task CompareSetsTheModelsFactorPicturesSideBySide()
    {
        using var dir = new TempDir();
        var folder = Folder(dir);
        var (exit, _, error) = await LatentCommand.RunAsync(["compare", "--models", "vae_2d,vae_32d", "--dataset", folder, "--epochs", "1", "--image-size", "16",
            "--test-fraction", "0.4", "--no-tensorboard", "--tsne-points", "50", "--data-dir", dir["data"], "--out", dir["out"]]);
        Assert.True(exit == 0, error);
        foreach (var model in new[] { "vae_2d", "vae_32d" })
            foreach (var file in new[] { "factor_information.png", "factor_traversals.png" })
                Assert.True(File.Exists(dir[$"out/shapes/{model}/figures/{file}"]), $"{model}/figures/{file}");
        Assert.True(File.Exists(dir["out/shapes/comparison/factor_information.png"]));
        var comparison = File.ReadAllText(dir["out/shapes/comparison.json"]);
        Assert.Contains("How much each code dimension knows about each factor", comparison);
        Assert.Contains("MIG", comparison);
    }

    [Theory]
    [InlineData("missing", "row 2: 'discs/nothing.png' is not an image of the folder")]
    [InlineData("text", "row 3, factor 'number': 'many' is not a number")]
    [InlineData("constant", "factor 'kind' (column 2) has one value only (1)")]
    [InlineData("short", "row 2: 2 columns, the header has 3")]
    public async Task ABadFactorsFileIsOneLineNamingTheFileAndTheRow(string problem, string expected)
    {
        using var dir = new TempDir();
        int line = 0;
        var folder = Folder(dir, (file, c, number) => (problem, ++line) switch
        {
            ("missing", 1) => "discs/nothing.png,0,0",
            ("text", 2) => $"{file},{c},many",
            ("constant", _) => $"{file},1,{number}",
            ("short", 1) => $"{file},{c}",
            _ => $"{file},{c},{number}",
        });
        var (exit, _, error) = await LatentCommand.RunAsync(["train", "--model", "vae_2d", "--dataset", folder, "--epochs", "1",
            "--data-dir", dir["data"], "--out", dir["out"]]);
        Assert.Equal(2, exit);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("factors.csv", lines[0]);
        Assert.Contains(expected, lines[0]);
    }
}
