using LatentLab.Storage;
namespace LatentLab.Training;

/// <summary>A progress report from <see cref="Trainer"/>: after every batch, and with <see cref="Completed"/>
/// set once an epoch's test evaluation is done. <see cref="Message"/> carries one-off notes (resumed, ...).</summary>
public sealed record TrainingProgress(
    int Epoch,
    int Epochs,
    int Batch,
    int Batches,
    double RunningLoss,
    double ImagesPerSecond,
    TimeSpan EpochElapsed,
    EpochRecord? Completed = null,
    string? Message = null);

/// <summary>How a call to <see cref="Trainer.Train"/> ended.</summary>
public enum TrainingOutcome { Completed, Interrupted }

/// <summary>The loss became NaN or infinite; training stopped and the last good checkpoint was kept.</summary>
public sealed class TrainingDivergedException(int epoch, int step, double loss)
    : LatentLabException($"loss became {loss} at epoch {epoch}, step {step}; stopped, the last good checkpoint is kept (try a smaller --lr)");
