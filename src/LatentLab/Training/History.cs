using System.Globalization;
using System.Text;
using LatentLab.IO;

namespace LatentLab.Training;

/// <summary>One epoch of training. Losses are per image (summed over pixels, mean over images), in nats for BCE.</summary>
/// <param name="TrainLoss">Mean training loss over the epoch's batches, as the optimizer saw it.</param>
/// <param name="TestLoss">Loss on the whole test split after the epoch (one posterior sample per image for VAEs).</param>
/// <param name="Seconds">Wall-clock time of the epoch, training and test evaluation together.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TestLoss, double TestRecon, double TestKl, double Seconds);

/// <summary>Reads and writes history.csv.</summary>
public static class History
{
    public const string Header = "epoch,train_loss,test_loss,test_recon,test_kl,seconds";

    public static string ToCsv(IEnumerable<EpochRecord> rows)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
            text.Append(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.TrainLoss:R},{r.TestLoss:R},{r.TestRecon:R},{r.TestKl:R},{r.Seconds:F3}\n");
        return text.ToString();
    }

    public static void Write(string path, IEnumerable<EpochRecord> rows) => AtomicFile.WriteAllText(path, ToCsv(rows));

    public static List<EpochRecord> Parse(string csv, string name)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0].Trim() != Header) throw new CorruptFileException(name, $"history must start with '{Header}'");
        var rows = new List<EpochRecord>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != 6 || !int.TryParse(f[0], CultureInfo.InvariantCulture, out var epoch))
                throw new CorruptFileException(name, $"bad history row '{line.Trim()}'");
            double D(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new CorruptFileException(name, $"bad number '{f[i]}' in history row '{line.Trim()}'");
            rows.Add(new EpochRecord(epoch, D(1), D(2), D(3), D(4), D(5)));
        }
        return rows;
    }

    public static List<EpochRecord> Read(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : throw new LatentLabException($"{path}: file not found");
}
