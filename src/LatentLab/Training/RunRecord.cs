using LatentLab.Models;
using LatentLab.Runtime;

namespace LatentLab.Training;

/// <summary>The dataset a run used, with the SHA-256 of each uncompressed file.</summary>
public sealed record DatasetRecord(string Name, IReadOnlyDictionary<string, string> Sha256, long TrainImages, long TestImages);

/// <summary>config.json: everything needed to know what a run was and to reproduce it.</summary>
public sealed record RunRecord(
    ModelConfig Model,
    TrainingConfig Training,
    DatasetRecord Dataset,
    int Threads,
    long Parameters,
    LibraryVersions Versions,
    DateTime CreatedUtc);
