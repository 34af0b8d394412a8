using System.Globalization;
using System.Text;
using LatentLab.IO;

namespace LatentLab.Storage;

/// <summary>One epoch of training. Losses are per image (summed over pixels, mean over images), in nats for BCE.</summary>
/// <param name="TrainLoss">Mean training loss over the epoch's batches, as the optimizer saw it.</param>
/// <param name="TestLoss">Loss on the whole test split after the epoch (one posterior sample per image for VAEs).</param>
/// <param name="Seconds">Wall-clock time of the epoch, training and test evaluation together.</param>
/// <param name="ValidationLoss">Loss on the validation images held out of the training split (<c>--validation</c>),
/// after the epoch; null without them.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TestLoss, double TestRecon, double TestKl, double Seconds,
    double? ValidationLoss = null)
{
    /// <summary>The test KL's parts, for an objective that weighs them apart (β-TCVAE); null otherwise.</summary>
    public KlParts? KlParts { get; init; }
}

/// <summary>The KL term's decomposition on the test split (Chen et al. 2018), nats per image: index-code mutual
/// information, total correlation, dimension-wise KL.</summary>
public sealed record KlParts(double MutualInformation, double TotalCorrelation, double DimensionKl);

/// <summary>Reads and writes history.csv.</summary>
public static class History
{
    public const string Header = "epoch,train_loss,test_loss,test_recon,test_kl,seconds";
    /// <summary>The header of a run with a validation split: one more column.</summary>
    public const string HeaderWithValidation = Header + ",validation_loss";
    /// <summary>The columns a β-TCVAE run adds at the end: the test KL's three parts.</summary>
    public const string KlPartsColumns = ",test_mutual_information,test_total_correlation,test_dimension_kl";

    public static string ToCsv(IEnumerable<EpochRecord> rows)
    {
        var list = rows.ToList();
        bool validation = list.Any(r => r.ValidationLoss is not null), parts = list.Any(r => r.KlParts is not null);
        var text = new StringBuilder(validation ? HeaderWithValidation : Header).Append(parts ? KlPartsColumns : "").Append('\n');
        foreach (var r in list)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.TrainLoss:R},{r.TestLoss:R},{r.TestRecon:R},{r.TestKl:R},{r.Seconds:F3}");
            if (validation) text.Append(CultureInfo.InvariantCulture, $",{r.ValidationLoss ?? double.NaN:R}");
            if (parts)
            {
                var p = r.KlParts ?? new KlParts(double.NaN, double.NaN, double.NaN);
                text.Append(CultureInfo.InvariantCulture, $",{p.MutualInformation:R},{p.TotalCorrelation:R},{p.DimensionKl:R}");
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    public static void Write(string path, IEnumerable<EpochRecord> rows) => AtomicFile.WriteAllText(path, ToCsv(rows));

    public static List<EpochRecord> Parse(string csv, string name)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string header = lines.Length == 0 ? "" : lines[0].Trim();
        bool parts = header.EndsWith(KlPartsColumns, StringComparison.Ordinal);
        if (parts) header = header[..^KlPartsColumns.Length];
        if (header != Header && header != HeaderWithValidation)
            throw new CorruptFileException(name, $"history must start with '{Header}'");
        int baseColumns = header == Header ? 6 : 7, columns = baseColumns + (parts ? 3 : 0);
        var rows = new List<EpochRecord>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != columns || !int.TryParse(f[0], CultureInfo.InvariantCulture, out var epoch))
                throw new CorruptFileException(name, $"bad history row '{line.Trim()}'");
            double D(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new CorruptFileException(name, $"bad number '{f[i]}' in history row '{line.Trim()}'");
            rows.Add(new EpochRecord(epoch, D(1), D(2), D(3), D(4), D(5), baseColumns == 7 ? D(6) : null)
                { KlParts = parts ? new KlParts(D(baseColumns), D(baseColumns + 1), D(baseColumns + 2)) : null });
        }
        return rows;
    }

    public static List<EpochRecord> Read(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : throw new LatentLabException($"{path}: file not found");
}
