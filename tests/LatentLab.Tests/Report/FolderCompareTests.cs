using System.Text.Json;
using LatentLab.Visualization.Report;

namespace LatentLab.Tests.Report;

/// <summary><c>latent compare --dataset FOLDER --arch conv --epochs 1</c> on colour images the fixture draws.</summary>
public sealed class FolderCompareFixture : IDisposable
{
    public TempDir Dir { get; } = new();
    public string DatasetFolder => Dir["out/shapes"];
    public int Exit { get; }
    public string Output { get; }

    public FolderCompareFixture()
    {
        ImageFolders.WriteColorShapes(Dir["shapes"], perClass: 20);
        var (exit, output, error) = LatentCommand.Run("compare", "--dataset", Dir["shapes"], "--arch", "conv", "--epochs", "1", "--data-dir", Dir["data"],
            "--out", Dir["out"], "--iwae-k", "5", "--tsne-points", "50");
        (Exit, Output) = (exit, output + error);
    }

    public void Dispose() => Dir.Dispose();
}

public class FolderCompareTests(FolderCompareFixture run) : IClassFixture<FolderCompareFixture>
{
    static readonly string[] Models = ["vae_2d-conv", "ae_2d-conv", "vae_32d-conv", "ae_32d-conv"];

    [Fact]
    public void CompareOnAFolderWritesTheReportForTheConvModels()
    {
        Assert.True(run.Exit == 0, run.Output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.DatasetFolder, Comparison.FileName)));
        Assert.Equal("shapes", json.RootElement.GetProperty("dataset").GetString());
        var models = json.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(Models.Order(), models.Select(m => m.GetProperty("name").GetString()!).Order());
        Assert.All(models, m => Assert.Equal("conv", m.GetProperty("model").GetProperty("arch").GetString()));
        Assert.All(models, m => Assert.True(m.GetProperty("metrics").GetProperty("knn_accuracy").GetDouble() is >= 0 and <= 1));
        var html = File.ReadAllText(Path.Combine(run.DatasetFolder, HtmlReport.FileName));
        Assert.Contains("\"kind\":\"deconv\"", html);
    }

    [Fact]
    public async Task TheConvExplorersDecodeColourInTheBrowserAsTheCSharpDecoderDoes()
    {
        Assert.True(run.Exit == 0, run.Output);
        await BrowserCheck.ExplorersDecodeAsCSharpDoes(run.DatasetFolder, ["vae_2d-conv", "ae_2d-conv"], "report-conv-folder.png");
    }
}
