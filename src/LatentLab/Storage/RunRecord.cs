using LatentLab.Training;
using LatentLab.Data;
using LatentLab.Models;
using LatentLab.Runtime;

namespace LatentLab.Storage;

/// <summary>The dataset a run used: for MNIST-style data the SHA-256 of each uncompressed file; for a folder of images
/// the folder, its decoding options and the split (<see cref="ImageFolderSource"/>), with the SHA-256 of the file list,
/// the decoded pixels and the split.</summary>
public sealed record DatasetRecord(string Name, IReadOnlyDictionary<string, string> Sha256, long TrainImages, long TestImages,
    ImageShape? Image = null, IReadOnlyList<string>? ClassNames = null, ImageFolderSource? Folder = null)
{
    public static DatasetRecord Of(Dataset data) =>
        new(data.Name, data.Sha256, data.TrainCount, data.TestCount, data.Shape, data.ClassNames, data.Folder);
}

/// <summary>config.json: everything needed to know what a run was and to reproduce it.</summary>
public sealed record RunRecord(
    ModelConfig Model,
    TrainingConfig Training,
    DatasetRecord Dataset,
    int Threads,
    long Parameters,
    LibraryVersions Versions,
    DateTime CreatedUtc);
