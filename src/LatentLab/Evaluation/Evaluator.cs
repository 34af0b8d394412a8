using System.Diagnostics;
using LatentLab.Data;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Evaluation;

/// <summary>How to evaluate: the IWAE sample count (0 skips it), the seed of every random draw, and the protocol.</summary>
/// <param name="FeatureNetFolder">Where the classifier behind the Fréchet distances is cached (trained there on first
/// use); null skips the two distances.</param>
/// <param name="Precision">The number format of the encoder's and decoder's products (a bfloat16 twin of the model
/// for bf16); every metric is computed in float32 or float64 either way.</param>
/// <param name="ExactLikelihood">For a 2-d VAE, also log p(x) by integration over the plane (<see cref="PlaneIntegral"/>).</param>
public sealed record EvaluationOptions(int IwaeK = 1000, long Seed = 0, bool Binarize = false, string? FeatureNetFolder = null,
    Runtime.Precision Precision = Runtime.Precision.Fp32, bool ExactLikelihood = true)
{
    public const int MaxIwaeK = 1_000_000;

    public EvaluationOptions Validate() => IwaeK is < 0 or > MaxIwaeK
        ? throw new LatentLabException($"--iwae-k must be between 0 and {MaxIwaeK}, got {IwaeK}")
        : this;
}

/// <summary>Measures a trained model on the whole test split; deterministic for a given seed.</summary>
public static class Evaluator
{
    const int Batch = 1000;
    const int IwaeBatch = 64;
    public const double ActiveUnitThreshold = 0.01;

    /// <summary>The feature network's features of the first <paramref name="count"/> rows of <paramref name="images"/>,
    /// computed once per process for each network (by its SHA-256) and images tensor: the test split's and the training
    /// slice's are the same for every model, so compare embeds them once, not once per model. Held as long as the
    /// images tensor lives; the caller must not dispose them.</summary>
    static Tensor SharedFeatures(FeatureNet net, string sha, Tensor images, long count)
    {
        var byNet = SharedFeatureCache.GetValue(images, _ => []);
        lock (byNet)
        {
            if (!byNet.TryGetValue((sha, count), out var features))
            {
                features = net.EmbedAll(images.narrow(0, 0, count)).DetachFromDisposeScope();
                byNet[(sha, count)] = features;
            }
            return features;
        }
    }

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Tensor, Dictionary<(string Net, long Count), Tensor>> SharedFeatureCache = new();

    public static Metrics Evaluate(Autoencoder model, Dataset data, EvaluationOptions options, IProgress<string>? progress = null)
    {
        options.Validate();
        if (options.Precision == Runtime.Precision.Bf16 && model.ComputeType != ScalarType.BFloat16)
        {
            // The plane integral reads the model itself, in float32. The twin is another model (its weights rounded to
            // bfloat16: 0.002 nats from the float32 one on the default vae_2d), and its products' rounding makes the
            // integrand noisy at fine grids, so that the refinement chases the noise: 635 of the 10,000 test images went to
            // 4,097 points a side where float32 sends 11 (bench/README.md).
            var stopwatch = Stopwatch.StartNew();
            PlaneLikelihood? exact = null;
            if (options.ExactLikelihood && PlaneIntegral.Applies(model))
            {
                using var noGradient = no_grad();
                using var exactScope = NewDisposeScope();
                progress?.Report("exact log p(x): the box over the plane");
                exact = PlaneIntegral.LogLikelihood(model, TestImages(data, options), progress);
            }
            double exactSeconds = stopwatch.Elapsed.TotalSeconds;
            using var twin = model.Twin(ScalarType.BFloat16);
            var metrics = Evaluate(twin, data, options with { ExactLikelihood = false }, progress);
            return exact is null ? metrics : metrics with
            {
                TestLogPxExact = exact.Mean, TestLogPxExactError = exact.MaxChange, ExactPerImage = exact,
                EvalSeconds = metrics.EvalSeconds + exactSeconds,
            };
        }
        var clock = Stopwatch.StartNew();
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        bool variational = model.IsVariational;
        var x = TestImages(data, options);
        long n = x.shape[0];

        progress?.Report("reconstructions");
        var mse = new List<Tensor>();
        var psnr = new List<Tensor>();
        var ssim = new List<Tensor>();
        var bce = new List<Tensor>();
        var codes = new List<Tensor>();
        var elbo = new List<Tensor>();
        var klPerDim = new List<Tensor>();
        var klTotal = new List<Tensor>();
        using var sampler = new Generator((ulong)options.Seed + 1);
        for (long first = 0; first < n; first += Batch)
        {
            // Each batch's temporaries are freed with the batch; only the per-image results are kept.
            using var batchScope = NewDisposeScope();
            var batch = x.narrow(0, first, Math.Min(Batch, n - first));
            var q = model.Encode(batch);
            var z = q.Mean;
            var logits = model.Decode(z);
            var reconstruction = logits.sigmoid();
            codes.Add(z.MoveToOuterDisposeScope());
            mse.Add(ImageMetrics.Mse(batch, reconstruction).MoveToOuterDisposeScope());
            psnr.Add(ImageMetrics.Psnr(batch, reconstruction).MoveToOuterDisposeScope());
            ssim.Add(ImageMetrics.Ssim(batch, reconstruction).MoveToOuterDisposeScope());
            bce.Add(ImageMetrics.Bce(logits, batch).MoveToOuterDisposeScope());
            if (variational)
            {
                var (sample, logQ) = q.SampleWithDensity(sampler);
                var recon = ImageMetrics.Bce(model.Decode(sample), batch);
                var kl = q.KlPerDimension(model.Prior!);   // [B, d] nats, where the prior gives a closed form
                var klPerImage = kl?.sum([1]) ?? Objectives.Kl(q, model.Prior!, sample, logQ);
                elbo.Add((-(recon + klPerImage.to(ScalarType.Float64))).MoveToOuterDisposeScope());
                klTotal.Add(klPerImage.to(ScalarType.Float64).MoveToOuterDisposeScope());
                if (kl is not null) klPerDim.Add(kl.to(ScalarType.Float64).MoveToOuterDisposeScope());
            }
        }
        var testCodes = cat(codes, 0).to(ScalarType.Float64);

        // The class probes need labels: a flat folder of images has none.
        double? knn = null, probe = null;
        Tensor? trainCodes = null;   // also what an AE's samples are fitted to, below
        if (data.HasLabels)
        {
            progress?.Report("latent probes");
            trainCodes = EncodeAll(model, data.TrainImages);
            knn = LatentProbes.KnnAccuracy(trainCodes, data.TrainLabels, testCodes, data.TestLabels);
            probe = LatentProbes.LinearProbeAccuracy(trainCodes, data.TrainLabels, testCodes, data.TestLabels);
        }

        // What each dimension means, where the data knows its factors.
        DisentanglementMetrics? disentanglement = null;
        if (data.Factors is { } factors)
        {
            progress?.Report("disentanglement scores");
            var pool = Analysis.Disentanglement.FactorCodes.FromTensors(testCodes, factors.Test.narrow(0, 0, n), factors.Names);
            disentanglement = DisentanglementMetrics.From(Analysis.Disentanglement.Disentanglement.Compute(pool, options.Seed), (int)n);
        }

        double? logPx = null;
        if (variational && options.IwaeK > 0)
        {
            using var iwaeRng = new Generator((ulong)options.Seed + 3);
            var estimates = new List<Tensor>();
            for (long first = 0; first < n; first += IwaeBatch)
            {
                progress?.Report($"IWAE k={options.IwaeK}: {first:N0}/{n:N0} images");
                estimates.Add(Iwae.LogLikelihood(model, x.narrow(0, first, Math.Min(IwaeBatch, n - first)), options.IwaeK, iwaeRng));
            }
            logPx = cat(estimates, 0).mean().item<double>();
        }

        // A 2-d VAE's log p(x) itself, by integration over the plane: what the bound above approaches.
        PlaneLikelihood? plane = null;
        if (options.ExactLikelihood && PlaneIntegral.Applies(model))
        {
            progress?.Report("exact log p(x): the box over the plane");
            plane = PlaneIntegral.LogLikelihood(model, x, progress);
        }

        // Sample quality as a number: Fréchet distances in the features of the dataset's own classifier.
        double? sampleFrechet = null, reconFrechet = null, trainTest = null, netAccuracy = null;
        Dictionary<string, double>? bySampler = null;
        string? netSha = null;
        if (options.FeatureNetFolder is { } cache && data.HasLabels)
        {
            progress?.Report("Fréchet distances: the feature network");
            var (net, sha, accuracy) = FeatureNet.LoadOrTrain(data, cache, progress);
            using (net)
            {
                (netSha, netAccuracy) = (sha, accuracy);
                progress?.Report("Fréchet distances: samples and reconstructions");
                var real = SharedFeatures(net, sha, data.TestImages, n);
                using var rng = new Generator((ulong)options.Seed + 5);
                if (model.Prior is null) model.FitSampler(trainCodes!);
                var z = model.SamplePrior(n, rng);
                sampleFrechet = FeatureNet.FrechetDistance(net.EmbedAll(DecodeAll(model, z)), real);
                if (!variational)
                {
                    // Every sampler family fitted to the same training codes, the model's own among them.
                    bySampler = new Dictionary<string, double>();
                    foreach (var family in Models.Samplers.SamplerRegistry.Families)
                    {
                        if (family.Name == model.Config.Sampler)
                        {
                            bySampler[Models.Samplers.SamplerRegistry.Label(family.Name, model.Config.SamplerComponents)] = sampleFrechet.Value;
                            continue;
                        }
                        // A mixture has at most as many components as there are codes (a tiny folder of images).
                        int k = (int)Math.Min(family.DefaultComponents, trainCodes!.shape[0]);
                        string label = Models.Samplers.SamplerRegistry.Label(family.Name, k);
                        progress?.Report($"Fréchet distances: samples of the {label} sampler");
                        using var familyRng = new Generator((ulong)options.Seed + 5);
                        using var fitted = family.Fit(trainCodes, k, 0);
                        bySampler[label] = FeatureNet.FrechetDistance(net.EmbedAll(DecodeAll(model, fitted.Sample(n, familyRng))), real);
                    }
                }
                reconFrechet = FeatureNet.FrechetDistance(net.EmbedAll(DecodeAll(model, testCodes.to(ScalarType.Float32))), real);
                trainTest = FeatureNet.FrechetDistance(SharedFeatures(net, sha, data.TrainImages, Math.Min(n, data.TrainCount)), real);
            }
        }

        double Mean(List<Tensor> values) => cat(values, 0).mean().item<double>();
        var perDimKl = klPerDim.Count == 0 ? null : cat(klPerDim, 0).mean([0]).data<double>().ToArray();
        return new Metrics(
            model.Config.Name, data.Name, n,
            TestMse: Mean(mse), TestSsim: Mean(ssim), TestPsnr: Mean(psnr), TestBce: Mean(bce),
            TestElbo: variational ? Mean(elbo) : null,
            TestKl: perDimKl?.Sum() ?? (variational ? Mean(klTotal) : null),
            TestLogPxIwae: logPx,
            IwaeK: !variational || options.IwaeK == 0 ? null : options.IwaeK,
            KlPerDim: perDimKl,
            ActiveUnits: !variational ? null : (int)testCodes.var(0, unbiased: true).gt(ActiveUnitThreshold).sum().item<long>(),
            LatentMean: testCodes.mean([0]).data<double>().ToArray(),
            LatentStd: testCodes.std(0, unbiased: false).data<double>().ToArray(),
            KnnAccuracy: knn, LinearProbeAccuracy: probe,
            EvalSeconds: clock.Elapsed.TotalSeconds, Seed: options.Seed,
            DatasetSha256: data.Sha256, Binarized: options.Binarize,
            SampleFrechet: sampleFrechet, ReconFrechet: reconFrechet, FrechetTrainTest: trainTest, FrechetNetSha256: netSha, FrechetNetAccuracy: netAccuracy,
            Precision: model.ComputeType == ScalarType.BFloat16 ? Runtime.Precision.Bf16 : Runtime.Precision.Fp32,
            Cpu: Runtime.Cpu.Current,
            TestLogPxExact: plane?.Mean, TestLogPxExactError: plane?.MaxChange, SampleFrechetBySampler: bySampler, Disentanglement: disentanglement) { ExactPerImage = plane };
    }

    /// <summary>The test split as the options read it: binarized once with their seed, or as it is.</summary>
    static Tensor TestImages(Dataset data, EvaluationOptions options) =>
        options.Binarize ? Binarization.FixedTestSplit(data.TestImages, options.Seed) : data.TestImages;

    /// <summary>Makes sure <paramref name="model"/> has something to sample from: an AE without a fitted sampler gets
    /// one, fitted to its codes of <paramref name="data"/>'s training images.</summary>
    public static void EnsureSampler(Autoencoder model, Dataset data)
    {
        if (model.Prior is null) model.FitSampler(EncodeAll(model, data.TrainImages));
    }

    /// <summary>The decoded images (intensities in [0, 1]) of codes [N, d], in batches.</summary>
    public static Tensor DecodeAll(Autoencoder model, Tensor codes) => InBatches(codes, Batch, z => model.Decode(z).sigmoid());

    /// <summary>The mean codes of all <paramref name="images"/>, in batches: [N, d] float64.</summary>
    public static Tensor EncodeAll(Autoencoder model, Tensor images) => InBatches(images, Batch, x => model.EncodeMean(x).to(ScalarType.Float64));

    /// <summary><paramref name="f"/> applied to <paramref name="input"/> <paramref name="batch"/> rows at a time, without
    /// gradients, the results concatenated; each batch's temporaries are freed with it.</summary>
    internal static Tensor InBatches(Tensor input, long batch, Func<Tensor, Tensor> f)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long first = 0; first < input.shape[0]; first += batch)
        {
            Runtime.TorchRuntime.CollectBetweenSteps();
            using var batchScope = NewDisposeScope();
            parts.Add(f(input.narrow(0, first, Math.Min(batch, input.shape[0] - first))).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
