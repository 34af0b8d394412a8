using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Sweeps;

/// <summary>What running one point did.</summary>
public enum PointOutcome { Completed, AlreadyDone, Interrupted }

/// <summary>Runs one point of a sweep: train (continuing the checkpoint a killed attempt left), then evaluate. The same
/// code runs a point on this machine, in a Kubernetes pod and in a Slurm array task.</summary>
public static class SweepRunner
{
    /// <summary>The run folder of <paramref name="point"/> in the sweep at <paramref name="sweepFolder"/>.</summary>
    public static RunFolder FolderOf(string sweepFolder, SweepPoint point) => new(Path.GetFullPath(Path.Combine(sweepFolder, point.Folder)));

    /// <summary>A point is done when its training reached the planned epochs and its metrics.json, newer than the
    /// weights, was measured with the planned IWAE k.</summary>
    public static bool IsDone(string sweepFolder, SweepPoint point, int iwaeK)
    {
        var folder = FolderOf(sweepFolder, point);
        try
        {
            return folder.EpochsTrained() >= point.Training.Epochs && folder.IsMeasured(point.Kind == Models.ModelKind.Vae, iwaeK);
        }
        catch (LatentLabException)
        {
            return false;   // a corrupt history: run the point again
        }
    }

    /// <summary>The precision <paramref name="point"/> trains in on this machine: the sweep's <c>precision</c> (auto
    /// when not given) resolved here, where the point runs (<see cref="RunPrecision.Choose"/>: a point already begun
    /// continues in its own).</summary>
    public static (Runtime.Precision Precision, string Reason) PointPrecision(string sweepFolder, SweepPlan plan, SweepPoint point) =>
        RunPrecision.Choose(plan.Spec.PrecisionChoice, point.Config, FolderOf(sweepFolder, point), resume: true);

    /// <summary>Trains and evaluates <paramref name="point"/> on <paramref name="data"/> (already sliced as the sweep
    /// says). Two attempts at one point never run at once: the second is refused while the first holds the point's lock.</summary>
    /// <param name="featureNetFolder">Where the classifier of the Fréchet distances is cached; null skips them.</param>
    public static PointOutcome Run(string sweepFolder, SweepPlan plan, SweepPoint point, Dataset data, string? featureNetFolder,
        IProgress<TrainingProgress>? training, IProgress<string>? evaluation, CancellationToken cancel)
    {
        var lockFolder = Path.Combine(sweepFolder, "locks", point.Index.ToString("D3"));
        RunLock pointLock;
        try { pointLock = RunLock.Acquire(lockFolder); }
        catch (LatentLabException)
        {
            throw new LatentLabException($"point {point.Index} of sweep {plan.Name} is being run by another process (it holds {Path.Combine(lockFolder, ".lock")})");
        }
        using (pointLock)
        {
            if (IsDone(sweepFolder, point, plan.Spec.IwaeK)) return PointOutcome.AlreadyDone;
            var folder = FolderOf(sweepFolder, point);
            if (point.Config.Image != data.Shape)
                throw new LatentLabException($"sweep {plan.Name} was planned for {point.Config.Image} images; the data are {data.Shape}");
            using var trainer = new Trainer(point.Config, point.Training, data, folder, tensorBoard: false);
            if (trainer.Train(resume: true, training, cancel) == TrainingOutcome.Interrupted) return PointOutcome.Interrupted;
            var options = new EvaluationOptions(point.Kind == Models.ModelKind.Vae ? plan.Spec.IwaeK : 0, point.Seed, point.Training.Binarize, featureNetFolder,
                point.Training.Precision).Validate();
            var metrics = Evaluator.Evaluate(trainer.Model, data, options, evaluation);
            folder.SaveEvaluation(metrics, trainer.Model, data);
            return PointOutcome.Completed;
        }
    }
}
