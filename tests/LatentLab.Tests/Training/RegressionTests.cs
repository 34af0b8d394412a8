using System.Globalization;

namespace LatentLab.Tests.Training;

/// <summary>The paper's MLP presets give the numbers they gave before the encoder and decoder became modules chosen
/// by config (images as [N, C, H, W] tensors): values recorded from the build before that change, 2 epochs on the
/// committed MNIST slice, seed 0, 2 threads. The weights were bit-identical too (same tensor bytes in model.safetensors).</summary>
public class RegressionTests
{
    [Theory]
    [InlineData("vae_2d", new[] { 495.8986747233073, 368.7083203125, 304.71643107096355, 253.95765625 }, 0.07107938410126148, 0.10982871158978029)]
    [InlineData("ae_32d", new[] { 526.7361063639323, 451.6455859375, 348.52015584309896, 271.260859375 }, 0.07693567259328012, 0.09836116086302116)]
    public async Task MlpPresetsTrainToTheNumbersTheyGaveBeforeTheRedesign(string model, double[] trainAndTestLosses, double mse, double ssim)
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync("train", "--model", model, "--epochs", "2", "--threads", "2", "--iwae-k", "0",
            "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
        Assert.True(exit == 0, error);
        var rows = File.ReadAllLines(dir[$"mnist/{model}/history.csv"]).Skip(1).Select(l => l.Split(',')).ToList();
        var losses = rows.SelectMany(r => new[] { double.Parse(r[1], CultureInfo.InvariantCulture), double.Parse(r[2], CultureInfo.InvariantCulture) }).ToArray();
        for (int i = 0; i < losses.Length; i++)
            Assert.True(Math.Abs(losses[i] - trainAndTestLosses[i]) <= 1e-9 * trainAndTestLosses[i], $"loss {i}: {losses[i]} now, {trainAndTestLosses[i]} before");
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir[$"mnist/{model}/metrics.json"]));
        Assert.Equal(mse, metrics.RootElement.GetProperty("test_mse").GetDouble(), 1e-12);
        Assert.Equal(ssim, metrics.RootElement.GetProperty("test_ssim").GetDouble(), 1e-12);
    }
}
