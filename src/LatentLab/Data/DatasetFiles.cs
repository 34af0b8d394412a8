namespace LatentLab.Data;

/// <summary>The four files of a dataset on disk, and whether they must match the catalog's checksums.</summary>
/// <param name="Verified">True for the managed layout <c>DATA/&lt;dataset&gt;/</c>; false for a folder of
/// the user's own IDX files given with --data-dir, whose checksums are recorded but not prescribed.</param>
public sealed record DatasetFiles(DatasetSpec Spec, IReadOnlyDictionary<DatasetPart, string> Paths, bool Verified)
{
    static readonly string[] Suffixes = ["", ".gz"];

    /// <summary>Finds the files under <c>root/&lt;name&gt;/</c>, or directly in <paramref name="root"/>.</summary>
    public static DatasetFiles? Locate(DatasetSpec spec, string root)
    {
        var managed = Find(spec, Path.Combine(root, spec.Name));
        if (managed is not null) return new DatasetFiles(spec, managed, Verified: true);
        var own = Find(spec, root);
        return own is null ? null : new DatasetFiles(spec, own, Verified: false);
    }

    static Dictionary<DatasetPart, string>? Find(DatasetSpec spec, string folder)
    {
        var paths = new Dictionary<DatasetPart, string>();
        foreach (var file in spec.Files)
        {
            var path = Suffixes.Select(s => Path.Combine(folder, file.FileName + s)).FirstOrDefault(File.Exists);
            if (path is null) return null;
            paths[file.Part] = path;
        }
        return paths;
    }
}
