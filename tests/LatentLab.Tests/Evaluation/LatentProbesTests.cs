using System.Text.Json;
using LatentLab.Evaluation;
using static TorchSharp.torch;

namespace LatentLab.Tests.Evaluation;

/// <summary>kNN and linear probe against scikit-learn on the same codes (Fixtures/make_metric_fixtures.py).</summary>
public class LatentProbesTests
{
    static readonly JsonElement Fixture =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Folder("metrics"), "probes.json"))).RootElement;

    static Tensor Codes(string name)
    {
        var rows = Fixture.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToList();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Count, rows[0].Length], ScalarType.Float64);
    }

    static Tensor Labels(string name) =>
        tensor(Fixture.GetProperty(name).EnumerateArray().Select(v => v.GetInt64()).ToArray(), ScalarType.Int64);

    [Fact]
    public void KnnAccuracyMatchesScikitLearnWithinHalfAPoint()
    {
        double ours = LatentProbes.KnnAccuracy(Codes("train_z"), Labels("train_y"), Codes("test_z"), Labels("test_y"));
        Assert.InRange(ours - Fixture.GetProperty("knn_accuracy").GetDouble(), -0.005, 0.005);
    }

    [Fact]
    public void LinearProbeAccuracyMatchesScikitLearnWithinHalfAPoint()
    {
        double ours = LatentProbes.LinearProbeAccuracy(Codes("train_z"), Labels("train_y"), Codes("test_z"), Labels("test_y"));
        Assert.InRange(ours - Fixture.GetProperty("linear_probe_accuracy").GetDouble(), -0.005, 0.005);
    }

    [Fact]
    public void CodesWithoutClassInformationScoreNearChance()
    {
        manual_seed(3);
        var train = randn(2000, 4);
        var test = randn(1000, 4);
        var trainLabels = randint(0, 10, [2000]);
        var testLabels = randint(0, 10, [1000]);
        Assert.InRange(LatentProbes.KnnAccuracy(train, trainLabels, test, testLabels), 0.05, 0.16);
        Assert.InRange(LatentProbes.LinearProbeAccuracy(train, trainLabels, test, testLabels), 0.05, 0.16);
    }
}
