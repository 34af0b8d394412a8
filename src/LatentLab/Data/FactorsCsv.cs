using System.Globalization;

namespace LatentLab.Data;

/// <summary>A folder's <c>factors.csv</c>: known factors of variation of its images, so a user's own data with known
/// attributes gets the disentanglement scores as dSprites does. The first line is <c>file,NAME1,NAME2,...</c>; each other
/// line names one image by its path inside the folder (as the folder lists it, '/' between folders) and gives each
/// factor as a number. Every image needs a row; a factor needs at least two values.</summary>
public static class FactorsCsv
{
    public const string FileName = "factors.csv";

    /// <summary>The factors of <paramref name="files"/> (paths inside the folder, in the dataset's order) read from
    /// <paramref name="path"/>: names, and values [files, K]. Each problem is one <see cref="CorruptFileException"/>
    /// naming the file and the row.</summary>
    /// <param name="skipped">Files of the folder that could not be decoded: their rows are passed over.</param>
    public static (IReadOnlyList<string> Names, double[,] Values) Read(string path, IReadOnlyList<string> files, IReadOnlyCollection<string>? skipped = null)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new CorruptFileException(path, "empty; the first line must be file,NAME1,NAME2,...");
        var header = lines[0].Split(',').Select(c => c.Trim()).ToArray();
        if (header.Length < 2 || header[0] != "file")
            throw new CorruptFileException(path, "row 1: the header must be file,NAME1,NAME2,... (at least one factor)");
        var names = header[1..];
        if (names.Any(string.IsNullOrEmpty) || names.Distinct().Count() != names.Length)
            throw new CorruptFileException(path, "row 1: factor names must be present and distinct");
        var index = files.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i, StringComparer.Ordinal);
        var values = new double[files.Count, names.Length];
        var seen = new bool[files.Count];
        for (int row = 1; row < lines.Length; row++)
        {
            if (string.IsNullOrWhiteSpace(lines[row])) continue;
            var cells = lines[row].Split(',').Select(c => c.Trim()).ToArray();
            if (cells.Length != header.Length)
                throw new CorruptFileException(path, $"row {row + 1}: {cells.Length} columns, the header has {header.Length}");
            string file = cells[0].Replace('\\', '/');
            if (skipped?.Contains(file) == true) continue;
            if (!index.TryGetValue(file, out int i))
                throw new CorruptFileException(path, $"row {row + 1}: '{cells[0]}' is not an image of the folder");
            if (seen[i]) throw new CorruptFileException(path, $"row {row + 1}: '{file}' has a row already");
            seen[i] = true;
            for (int k = 0; k < names.Length; k++)
            {
                if (!double.TryParse(cells[k + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new CorruptFileException(path, $"row {row + 1}, factor '{names[k]}': '{cells[k + 1]}' is not a number");
                values[i, k] = v;
            }
        }
        int missing = Array.IndexOf(seen, false);
        if (missing >= 0)
            throw new CorruptFileException(path, $"no row for '{files[missing]}' ({seen.Count(s => !s):N0} images without one)");
        for (int k = 0; k < names.Length; k++)
        {
            double first = values[0, k];
            bool varies = false;
            for (int i = 1; i < files.Count && !varies; i++) varies = values[i, k] != first;
            if (!varies) throw new CorruptFileException(path, $"factor '{names[k]}' (column {k + 2}) has one value only ({first.ToString(CultureInfo.InvariantCulture)}): it tells the images apart in nothing");
        }
        return (names, values);
    }
}
