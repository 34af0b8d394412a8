namespace LatentLab.Visualization.Report;

/// <summary>What the report needs to play a 2-d model's latent space during training in the page (evolution.js) rather
/// than carry latent_evolution.gif: the test codes kept after each epoch, about 0.2 MB where the GIF's frames of
/// thousands of moving points take 1.5-2 MB. The page draws the same frames as the GIF: the same plane, the same
/// in-between frames, the same timing.</summary>
/// <param name="Codes">Per snapshot, the codes interleaved (z1, z2, z1, z2, ...).</param>
/// <param name="Limits">The plane of every frame: z1 from, z1 to, z2 from, z2 to.</param>
public sealed record EvolutionModel(string Name, int[] Epochs, float[][] Codes, byte[] Labels, IReadOnlyList<string> ClassNames,
    double[] Limits, int Tweens)
{
    /// <summary>The evolution of the run whose snapshots are at <paramref name="snapshotsPath"/>.</summary>
    public static EvolutionModel From(string name, string snapshotsPath, IReadOnlyList<string> classNames)
    {
        var (series, labels) = Visualizer.ReadSnapshots(snapshotsPath);
        var (x0, x1, y0, y1) = Animations.EvolutionLimits(series);
        var codes = series.Select(s =>
        {
            var interleaved = new float[2 * s.X.Length];
            for (int i = 0; i < s.X.Length; i++) (interleaved[2 * i], interleaved[2 * i + 1]) = ((float)s.X[i], (float)s.Y[i]);
            return interleaved;
        }).ToArray();
        return new EvolutionModel(name, series.Select(s => s.Epoch).ToArray(), codes, labels.Select(l => (byte)l).ToArray(),
            classNames, [x0, x1, y0, y1], Animations.EvolutionTweens(series.Count));
    }

    /// <summary>Frames the page shows: each snapshot and the in-between frames after it, as the GIF has.</summary>
    public int FrameCount => (Epochs.Length - 1) * (Tweens + 1) + 1;
}
