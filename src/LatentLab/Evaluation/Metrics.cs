using System.Text.Json.Serialization;

namespace LatentLab.Evaluation;

/// <summary>metrics.json: a trained model measured on the whole test split. Units: MSE per pixel (images in [0, 1]);
/// PSNR in dB; SSIM unitless; BCE, ELBO, KL and log p(x) in nats per image; accuracies as fractions.</summary>
/// <param name="TestBce">Reconstruction negative log-likelihood -log p(x|z) at z = the mean code, nats per image.</param>
/// <param name="TestElbo">Evidence lower bound, one posterior sample per image, averaged (VAEs).</param>
/// <param name="TestLogPxIwae">Importance-weighted bound on log p(x) with <see cref="IwaeK"/> samples (VAEs).</param>
/// <param name="TestLogPxExact">log p(x) itself for a 2-d VAE, by integration over the plane
/// (<see cref="PlaneIntegral"/>): what <see cref="TestLogPxIwae"/> bounds from below.</param>
/// <param name="TestLogPxExactError">The largest change of an image's value at its grid's last refinement: the
/// integration's stated error, nats.</param>
/// <param name="ActiveUnits">Dimensions whose Cov_x(E_q[z|x]) exceeds 0.01 (Burda et al. 2015).</param>
/// <param name="LatentMean">Mean of the test codes per dimension (z = mu for VAEs).</param>
/// <param name="KnnAccuracy">5-nearest-neighbour accuracy of test codes among training codes (Euclidean); absent
/// when the images carry no labels.</param>
/// <param name="LinearProbeAccuracy">Multinomial logistic regression on training codes, scored on test codes; absent
/// when the images carry no labels.</param>
/// <param name="SampleFrechet">Fréchet distance between as many samples as test images (a VAE's from N(0, I), an AE's
/// from a Gaussian fitted to its training codes) and the test images, in the 128 penultimate-layer features of this
/// dataset's own small classifier (<see cref="FeatureNet"/>): a classifier-feature distance, not the Inception FID.
/// Lower is better; absent without labels or when not asked for.</param>
/// <param name="SampleFrechetBySampler">For an AE, the same distance for samples of each sampler family fitted to its
/// training codes ("gaussian", "gmm10"), its own among them: which density of the codes gives the better samples.</param>
/// <param name="ReconFrechet">The same distance between the test images' reconstructions and the test images.</param>
/// <param name="FrechetTrainTest">The same distance between as many training images and the test images: the floor a
/// perfect model's samples would reach, up to sampling noise.</param>
/// <param name="FrechetNetSha256">SHA-256 of the cached classifier file the two distances used.</param>
/// <param name="FrechetNetAccuracy">That classifier's accuracy on the test split.</param>
/// <param name="Precision">The number format of the encoder's and decoder's products during evaluation.</param>
/// <param name="Cpu">The CPU the evaluation ran on (model name and its AVX-512 / bfloat16 flags); absent in files
/// written before it was recorded.</param>
public sealed record Metrics(
    string Model,
    string Dataset,
    long TestImages,
    double TestMse,
    double TestSsim,
    double TestPsnr,
    double TestBce,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestElbo,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestKl,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestLogPxIwae,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? IwaeK,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double[]? KlPerDim,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ActiveUnits,
    double[] LatentMean,
    double[] LatentStd,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? KnnAccuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LinearProbeAccuracy,
    double EvalSeconds,
    long Seed,
    IReadOnlyDictionary<string, string> DatasetSha256,
    bool Binarized,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? SampleFrechet = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ReconFrechet = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? FrechetTrainTest = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FrechetNetSha256 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? FrechetNetAccuracy = null,
    Runtime.Precision Precision = Runtime.Precision.Fp32,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Runtime.CpuInfo? Cpu = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestLogPxExact = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestLogPxExactError = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, double>? SampleFrechetBySampler = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DisentanglementMetrics? Disentanglement = null)
{
    /// <summary>The plane integral's value for each test image (not in metrics.json: the run folder keeps it as
    /// log_px_exact.csv, which the posterior-fit figure reads instead of integrating again).</summary>
    [JsonIgnore]
    public PlaneLikelihood? ExactPerImage { get; init; }
}

/// <summary>The disentanglement scores of a model's test codes on data with known factors (dSprites, a folder with
/// factors.csv): <see cref="Analysis.Disentanglement.Disentanglement"/> says how each is estimated.</summary>
/// <param name="Images">Test images scored (the pool the groups are drawn from).</param>
/// <param name="Factors">The factors, in the order of <paramref name="MutualInformation"/>'s columns.</param>
/// <param name="MutualInformation">[d][K]: I(code j; factor k) / H(factor k).</param>
public sealed record DisentanglementMetrics(int Images, IReadOnlyList<string> Factors, double Mig, double Sap,
    double DciDisentanglement, double DciCompleteness, double DciInformativeness, double BetaVaeScore, double FactorVaeScore,
    double[][] MutualInformation)
{
    public static DisentanglementMetrics From(Analysis.Disentanglement.DisentanglementScores s, int images)
    {
        int d = s.MutualInformation.GetLength(0), k = s.MutualInformation.GetLength(1);
        var mi = Enumerable.Range(0, d).Select(j => Enumerable.Range(0, k).Select(f => s.MutualInformation[j, f]).ToArray()).ToArray();
        return new(images, s.FactorNames, s.Mig, s.Sap, s.DciDisentanglement, s.DciCompleteness, s.DciInformativeness, s.BetaVaeScore, s.FactorVaeScore, mi);
    }
}
