using System.Globalization;

namespace LatentLab.Visualization.Report;

/// <summary>Sentences drawn from the measured numbers of a VAE and an AE of the same latent size. Each claim is
/// chosen by comparing the figures, so it says whichever way they went; none is fixed text.</summary>
public static class Findings
{
    public static IReadOnlyList<PairFinding> ForPairs(IReadOnlyList<ModelResult> models) =>
        models.Where(m => m.IsVae)
            .Select(vae => (vae, ae: models.FirstOrDefault(m => !m.IsVae && m.Model.LatentDim == vae.Model.LatentDim)))
            .Where(p => p.ae is not null)
            .Select(p => new PairFinding(p.vae.Model.LatentDim, p.vae.Name, p.ae!.Name, Sentences(p.vae, p.ae)))
            .ToList();

    /// <summary>"1 epoch", "20 epochs".</summary>
    public static string Epochs(int n) => n == 1 ? "1 epoch" : $"{n} epochs";

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    public static IReadOnlyList<string> Sentences(ModelResult vae, ModelResult ae)
    {
        var s = new List<string>();
        var (v, a) = (vae.Metrics, ae.Metrics);

        // Reconstruction: MSE decides, SSIM is reported with it (and flagged when it disagrees).
        var (better, worse) = a.TestMse <= v.TestMse ? (ae, vae) : (vae, ae);
        double lower = Math.Min(a.TestMse, v.TestMse), higher = Math.Max(a.TestMse, v.TestMse);
        string by = higher >= 2 * lower ? $"{F(higher / Math.Max(lower, 1e-12), "0.0")} times lower" : $"{F(1 - lower / higher, "P0")} lower";
        bool ssimAgrees = better.Metrics.TestSsim >= worse.Metrics.TestSsim;
        s.Add($"{better.Name} reconstructs the test images more closely: MSE {F(better.Metrics.TestMse, "0.00000")} against "
              + $"{F(worse.Metrics.TestMse, "0.00000")} ({by}), SSIM {F(better.Metrics.TestSsim, "0.000")} against "
              + $"{F(worse.Metrics.TestSsim, "0.000")}{(ssimAgrees ? "" : ", although SSIM ranks them the other way")}.");

        // Closeness of the codes to the prior N(0, I).
        var (closer, farther) = vae.PriorGapNats <= ae.PriorGapNats ? (vae, ae) : (ae, vae);
        s.Add($"{closer.Name}'s latent space is closer to N(0, I): the Gaussian fitted to its test codes is "
              + $"{F(closer.PriorGapNats, "0.00")} nats from N(0, I), {farther.Name}'s {F(farther.PriorGapNats, "0.00")} nats"
              + (closer == vae ? ", so decoding prior samples is what the VAE was trained for, while an AE must first fit a distribution to its codes." : "."));

        // Classes in the codes: the two probes may disagree, and then the sentence says so.
        if (!(v.KnnAccuracy is { } vKnn && a.KnnAccuracy is { } aKnn && v.LinearProbeAccuracy is { } vProbe && a.LinearProbeAccuracy is { } aProbe))
            s.Add("The images carry no class labels, so the class probes (k-nearest neighbours, linear probe) were skipped and the scatter plots show one colour.");
        else ClassSentence(s, vae, ae, vKnn, aKnn, vProbe, aProbe);

        // Likelihood: only the VAE has one.
        if (v.TestElbo is { } elbo)
        {
            string iwae = v.TestLogPxIwae is { } lp ? $" and the importance-weighted bound (k = {v.IwaeK}) {F(lp, "0.00")} nats; the gap of {F(lp - elbo, "0.00")} nats is what the one-sample ELBO leaves out" : "";
            s.Add($"Only {vae.Name} defines a likelihood: its ELBO on the test split is {F(elbo, "0.00")} nats per image{iwae}. "
                  + $"{ae.Name}'s reconstruction BCE of {F(a.TestBce, "0.00")} nats is not a bound on log p(x).");
        }

        // Posterior collapse.
        if (v.ActiveUnits is { } active && v.KlPerDim is { } kl)
            s.Add(active < kl.Length
                ? $"{active} of {vae.Name}'s {kl.Length} latent dimensions are active; the KL term switched the other {kl.Length - active} off (their codes do not vary with the image)."
                : kl.Length == 2 ? $"Both of {vae.Name}'s latent dimensions are active." : $"All {kl.Length} of {vae.Name}'s latent dimensions are active.");

        // Time.
        s.Add($"Training took {F(vae.TrainingSeconds, "0")} s ({Epochs(vae.EpochsTrained)}) for {vae.Name} and {F(ae.TrainingSeconds, "0")} s ({Epochs(ae.EpochsTrained)}) for {ae.Name}.");
        return s;
    }

    static void ClassSentence(List<string> s, ModelResult vae, ModelResult ae, double vKnn, double aKnn, double vProbe, double aProbe)
    {
        var knnBest = aKnn >= vKnn ? ae : vae;
        var probeBest = aProbe >= vProbe ? ae : vae;
        string knn = $"5-nearest-neighbour accuracy {F(Math.Max(vKnn, aKnn), "P1")} against {F(Math.Min(vKnn, aKnn), "P1")}";
        string probe = $"linear probe {F(Math.Max(vProbe, aProbe), "P1")} against {F(Math.Min(vProbe, aProbe), "P1")}";
        s.Add(knnBest == probeBest
            ? $"Classes are more separable in {knnBest.Name}'s codes: {knn}, {probe}."
            : $"The class probes disagree: {knnBest.Name}'s codes win on neighbours ({knn}), {probeBest.Name}'s on a linear boundary ({probe}).");
    }
}
