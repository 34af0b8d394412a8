namespace LatentLab.Training;

/// <summary>How a model is trained. Immutable; validated once; saved in config.json.</summary>
/// <param name="Binarize">Train on dynamically binarized images (each pixel drawn as Bernoulli of its intensity,
/// afresh every time it is seen), the protocol of the likelihood literature.</param>
public sealed record TrainingConfig(
    int Epochs = 30,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    long Seed = 0,
    bool Binarize = false)
{
    public const int MaxEpochs = 100_000;

    /// <summary>The number format of the matrix products while training (<see cref="Runtime.Precision"/>): float32, or
    /// bfloat16 with float32 master weights, optimizer state and losses. Resolved from <c>--precision auto</c> before
    /// training, so config.json says what was used.</summary>
    public Runtime.Precision Precision { get; init; } = Runtime.Precision.Fp32;

    public TrainingConfig Validate()
    {
        if (Epochs is < 1 or > MaxEpochs) throw new LatentLabException($"--epochs must be between 1 and {MaxEpochs}, got {Epochs}");
        if (BatchSize is < 1 or > 1_000_000) throw new LatentLabException($"--batch-size must be between 1 and 1000000, got {BatchSize}");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0) throw new LatentLabException($"--lr must be a finite number > 0, got {LearningRate}");
        return this;
    }
}
