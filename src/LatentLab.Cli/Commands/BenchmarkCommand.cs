using System.CommandLine;
using System.Globalization;
using System.Text;
using LatentLab.Benchmarks;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.IO;
using LatentLab.Models;
using LatentLab.Models.Vae;
using LatentLab.Runtime;
using LatentLab.Training;
using Spectre.Console;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent benchmark</c>: the likelihood table of the literature, from one command. Each row's model trains
/// under the literature's protocol (dynamic binarization; the test split binarized once), its log p(x) is estimated
/// with the importance-weighted bound (k = 5000, or the published row's k), resumably and with a standard error, and
/// stands beside the published figures of <c>Benchmarks/published.json</c> in OUT/benchmark/benchmark.md.</summary>
public static class BenchmarkCommand
{
    /// <summary>The table's rows: our model, how it is built, its training budget, the k it is measured with.</summary>
    sealed record Row(string Name, ModelConfig Model, int Epochs, int K)
    {
        /// <summary>The published figures this row stands beside: a row with another prior has its own where the
        /// literature has them (<c>vae_32d-vamp</c>: the VampPrior paper's), else the row's (the same task and protocol).</summary>
        public IReadOnlyList<PublishedFigure> Published => PublishedFigures.For(PublishedKey(Name, Model)).ToList() is { Count: > 0 } own
            ? own : PublishedFigures.For(Name).ToList();
    }

    /// <summary>A finished row: its run folder's name and training configuration (the recipe), training, and the likelihoods.</summary>
    sealed record RowResult(Row Row, string Folder, TrainingConfig Training, int EpochsTrained, double TrainSeconds, double TestElbo,
        LikelihoodResult Likelihood, Evaluation.PlaneLikelihood? Exact);

    static string PublishedKey(string row, ModelConfig model) =>
        model.Prior != Models.Priors.PriorRegistry.Standard ? $"{row}-{model.Prior}"
        : model.Posterior != Models.Posteriors.PosteriorRegistry.Gaussian ? $"{row}-{model.Posterior}" : row;

    static readonly Option<bool> QuickOption = new("--quick") { Description = "A small version in a few minutes: 1 epoch, k = 100, the first 1,000 test images" };
    static readonly Option<string?> ModelsOption = new("--models") { Description = "Rows to run, comma separated: vae_2d, vae_32d, vae_32d-conv, vae_2l (two stochastic layers) (default: the first three)" };
    static readonly Option<int?> EpochsOption = new("--epochs") { Description = "Epochs for every row (default: 30 for the MLPs, 10 for the conv VAE; --quick: 1)" };
    static readonly Option<int?> KOption = new("--k") { Description = "Importance samples of the final bound for every row (default: the published row's, 500 or 5000; --quick: 100)" };
    static readonly Option<int?> TestSizeOption = new("--test-size") { Description = "Measure on the first N test images (default: all; --quick: 1,000)" };
    static readonly Option<string?> ConvChannelsOption = new("--conv-channels")
    {
        Description = "The conv row's channels, one stride-2 convolution each, comma separated (default: 32,64; its run folder gets -chA.B)",
    };
    static readonly Option<string?> HiddenDimsOption = new("--hidden-dims")
    {
        Description = "Every row's fully connected widths, comma separated (default: each preset's, 512,256 for the MLPs and 256 for conv; the run folders get -hA.B)",
    };
    static readonly Option<string> ObjectiveOption = new("--objective")
    {
        Description = "Every row's training objective: elbo; iwae (the importance-weighted bound of Burda et al. 2015 with --train-k samples; the run folders get -iwaeK); or iwae-dreg (the same bound with the doubly reparameterized gradient of Tucker et al. 2019; -iwaeK-dreg)",
        DefaultValueFactory = _ => "elbo",
    };
    static readonly Option<int?> TrainKOption = new("--train-k") { Description = "Samples of the iwae training objective (default 5); --k is the estimate's" };
    static readonly Option<int?> ThreadsOption = CommonOptions.Threads();
    static readonly Option<string?> ActivationOption = CommonOptions.Activation();
    static readonly Option<string?> PriorOption = CommonOptions.Prior();
    static readonly Option<int?> PriorComponentsOption = CommonOptions.PriorComponents();
    static readonly Option<string?> PosteriorOption = CommonOptions.Posterior();
    static readonly Option<int?> FlowStepsOption = CommonOptions.FlowSteps();
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<string> PrecisionOption = CommonOptions.Precision();
    static readonly Option<string> LrScheduleOption = CommonOptions.LrSchedule();
    static readonly Option<int> KlWarmupOption = CommonOptions.KlWarmup();
    static readonly Option<int> ValidationOption = CommonOptions.Validation();
    static readonly Option<int> PatienceOption = CommonOptions.Patience();

    public const string FolderName = "benchmark";

    public static Command Create(CliConsole console)
    {
        var command = new Command("benchmark", "The likelihood table of the literature: train each row's model under its protocol, estimate log p(x) with k = 5000, set it beside the published figures");
        foreach (var option in new Option[] { QuickOption, ModelsOption, EpochsOption, KOption, TestSizeOption, ConvChannelsOption, HiddenDimsOption, PriorOption, PriorComponentsOption, PosteriorOption, FlowStepsOption, ObjectiveOption, TrainKOption, ActivationOption, ThreadsOption, OutOption, DataDirOption, PrecisionOption, LrScheduleOption, KlWarmupOption, ValidationOption, PatienceOption })
            command.Add(option);
        command.SetAction((parse, cancel) => RunAsync(parse, console, cancel));
        return command;
    }

    static IReadOnlyList<Row> Rows(bool quick, int? epochs, int? k, IReadOnlyList<int>? convChannels, IReadOnlyList<int>? hiddenDims,
        string? prior = null, int? priorComponents = null, string? posterior = null, int? flowSteps = null, int? iwaeSamples = null, bool? dreg = null, Activation? activation = null)
    {
        // The conv row keeps its ReLU: --activation is refused for it once the rows are chosen.
        var mlp2 = ModelRegistry.Get("vae_2d").WithOverrides(hiddenDims: hiddenDims, prior: prior, priorComponents: priorComponents, posterior: posterior, flowSteps: flowSteps, iwaeSamples: iwaeSamples, dreg: dreg, activation: activation);
        var mlp32 = ModelRegistry.Get("vae_32d").WithOverrides(hiddenDims: hiddenDims, prior: prior, priorComponents: priorComponents, posterior: posterior, flowSteps: flowSteps, iwaeSamples: iwaeSamples, dreg: dreg, activation: activation);
        var conv32 = ModelRegistry.Get("vae_32d").WithOverrides(arch: Architecture.Conv, convChannels: convChannels, hiddenDims: hiddenDims, prior: prior, priorComponents: priorComponents,
            posterior: posterior, flowSteps: flowSteps, iwaeSamples: iwaeSamples, dreg: dreg);
        // k: the published row's (500 for the 2-d rows, 5000 for the others), whatever the prior.
        int K(string row) => k ?? (quick ? 100 : PublishedFigures.For(row).Select(f => f.K).DefaultIfEmpty(5000).Max());
        int E(int full) => epochs ?? (quick ? 1 : full);
        // The two-level VAE has its own posterior, and its prior p(z2) p(z1|z2) takes N(0, I) or the VampPrior on z2 only.
        var twoLevel = prior is null or Models.Priors.PriorRegistry.Standard or "vamp" && posterior is null
            ? ModelRegistry.Get("vae_2l").WithOverrides(hiddenDims: hiddenDims, prior: prior, priorComponents: priorComponents, iwaeSamples: iwaeSamples, dreg: dreg, activation: activation) : null;
        return [new("vae_2d", mlp2, E(30), K("vae_2d")), new("vae_32d", mlp32, E(30), K("vae_32d")), new("vae_32d-conv", conv32, E(10), K("vae_32d-conv")),
                .. twoLevel is null ? Array.Empty<Row>() : [new("vae_2l", twoLevel, E(30), K("vae_2l"))]];
    }

    static async Task<int> RunAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        bool quick = parse.GetValue(QuickOption);
        int? epochs = parse.GetValue(EpochsOption), k = parse.GetValue(KOption), testSize = parse.GetValue(TestSizeOption) ?? (quick ? 1000 : null);
        if (epochs is < 1) throw new LatentLabException($"--epochs must be positive, got {epochs}");
        if (k is < 1 or > Evaluation.EvaluationOptions.MaxIwaeK) throw new LatentLabException($"--k must be between 1 and {Evaluation.EvaluationOptions.MaxIwaeK}, got {k}");
        if (testSize is < 1) throw new LatentLabException($"--test-size must be positive, got {testSize}");
        var all = Rows(quick, epochs, k, CommonOptions.ParseCounts(parse.GetValue(ConvChannelsOption), "--conv-channels"),
            CommonOptions.ParseCounts(parse.GetValue(HiddenDimsOption), "--hidden-dims"),
            CommonOptions.ParsePrior(parse.GetValue(PriorOption)), parse.GetValue(PriorComponentsOption),
            CommonOptions.ParsePosterior(parse.GetValue(PosteriorOption)), parse.GetValue(FlowStepsOption),
            CommonOptions.IwaeSamples(parse.GetValue(ObjectiveOption)!, parse.GetValue(TrainKOption), "--train-k"),
            CommonOptions.Dreg(parse.GetValue(ObjectiveOption)!), CommonOptions.ParseActivation(parse.GetValue(ActivationOption)));
        // Without --models, the three rows of the paper's models; the two-level VAE when asked for.
        var chosen = parse.GetValue(ModelsOption) is { } list ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : all.Select(r => r.Name).Where(n => n != "vae_2l").ToArray();
        foreach (var name in chosen)
            if (all.All(r => r.Name != name))
                throw new LatentLabException(name == "vae_2l"
                    ? "--models vae_2l: the two-level VAE has its own posterior q(z1|x) q(z2|z1) and prior p(z2) p(z1|z2); it takes no --posterior, and --prior standard or vamp (p(z2)) only"
                    : $"--models: unknown row '{name}'; known: {string.Join(", ", all.Select(r => r.Name))}");
        var rows = all.Where(r => chosen.Contains(r.Name)).ToList();
        if (parse.GetValue(ActivationOption) is not null && rows.Any(r => r.Model.Arch != Architecture.Mlp))
            throw new LatentLabException("--activation is for the fully connected rows; vae_32d-conv keeps its ReLU (choose rows with --models)");
        var schedule = CommonOptions.ParseLrSchedule(parse.GetValue(LrScheduleOption)!);
        var precisionChoice = Runtime.Precisions.ParseChoice(parse.GetValue(PrecisionOption)!);
        int warmup = parse.GetValue(KlWarmupOption), validation = parse.GetValue(ValidationOption), patience = parse.GetValue(PatienceOption);
        string outRoot = PathChecks.WritableFolder(parse.GetValue(OutOption)!, "--out");
        int threads = TorchRuntime.ConfigureThreads(parse.GetValue(ThreadsOption));
        // Per kind of row: auto takes float32 for the conv row where libtorch's bfloat16 transposed convolution is wrong.
        var precisions = rows.Select(r => r.Model.Arch == Architecture.Conv).Distinct()
            .ToDictionary(conv => conv, conv => Runtime.Precisions.Choose(precisionChoice, conv));
        foreach (var (conv, (format, why)) in precisions)
            CommonOptions.Announce(console.Out, format, precisions.Count == 1 ? why : $"{(conv ? "conv row" : "other rows")}: {why}");
        string folder = Path.Combine(outRoot, FolderName);

        using var data = await new DatasetChoice(DatasetCatalog.Mnist.Name, new ImageFolderOptions()).LoadAsync(console, parse.GetValue(DataDirOption), cancel);
        const long seed = 0;
        using var binarizedTest = Binarization.FixedTestSplit(data.TestImages, seed);
        using var test = testSize is { } t && t < data.TestCount ? binarizedTest.narrow(0, 0, t) : binarizedTest.alias();
        console.Out.MarkupLineInterpolated($"benchmark{(quick ? " (quick)" : "")}: {string.Join(", ", rows.Select(r => r.Name))} on dynamically binarized MNIST, log p(x) on {test.shape[0]:N0} test images binarized once, {threads} {(threads == 1 ? "thread" : "threads")}; results in {folder}");

        var results = new List<RowResult>();
        foreach (var row in rows)
        {
            var config = row.Model.ForImages(data.Shape);
            var precision = precisions[config.Arch == Architecture.Conv].Precision;
            // Each training recipe in a folder of its own, so that a finished run is never resumed with another one.
            int rowWarmup = Math.Min(warmup, row.Epochs);
            string recipe = (schedule == LrSchedule.Cosine ? "-cosine" : "") + (warmup > 0 ? $"-warmup{rowWarmup}" : "") +
                            (validation > 0 ? $"-val{validation}" + (patience > 0 ? $"-patience{patience}" : "") : "") + (precision == Runtime.Precision.Bf16 ? "-bf16" : "");
            var run = new RunFolder(Path.Combine(folder, config.Name + recipe));
            var training = new TrainingConfig(row.Epochs, 128, 1e-3, seed, Binarize: true)
                {
                    Precision = precision, LrSchedule = schedule, KlWarmupEpochs = rowWarmup,
                    ValidationImages = validation, Patience = patience,
                }.Validate();
            using var trainer = new Trainer(config, training, data, run, tensorBoard: false);
            var outcome = TrainingOutcome.Completed;
            await TrainingDisplay.CreateProgress(console.Out).StartAsync(async ctx =>
            {
                var task = ctx.AddTask(row.Name, maxValue: (double)training.Epochs * trainer.BatchesPerEpoch);
                var display = new TrainingDisplay(console.Out, task, trainer.BatchesPerEpoch, row.Name);
                outcome = await TorchRuntime.Run(() => trainer.Train(resume: true, display, cancel));
                task.Value = task.MaxValue;
            });
            if (outcome == TrainingOutcome.Interrupted) return Interrupted(console);

            var vae = trainer.Model;
            string partial = Path.Combine(run.Root, $"log_px_k{row.K}_n{test.shape[0]}.safetensors");
            LikelihoodResult? likelihood = null;
            await console.Out.Status().StartAsync($"{row.Name}: log p(x), k = {row.K:N0}", async ctx =>
            {
                // At most one update every two seconds: redirected to a file (a cluster's log), each one is a line.
                var shown = System.Diagnostics.Stopwatch.StartNew();
                var progress = new SynchronousProgress<string>(s =>
                {
                    if (shown.Elapsed < TimeSpan.FromSeconds(2)) return;
                    shown.Restart();
                    ctx.Status($"{row.Name}: {s}");
                });
                likelihood = await TorchRuntime.Run(() => LikelihoodEstimate.Run(vae, test, row.K, seed, partial, progress, cancel));
            });
            if (likelihood is null) return Interrupted(console);
            console.Out.MarkupLineInterpolated($"{row.Name}: log p(x) >= {likelihood.LogPx:0.00} ± {likelihood.StandardError:0.00} nats (k = {row.K:N0}, {likelihood.Images:N0} images, {likelihood.Seconds:0} s)");
            // A 2-d model's log p(x) itself, by integration over the plane: how far the estimate's bound is from it.
            Evaluation.PlaneLikelihood? exact = null;
            if (Evaluation.PlaneIntegral.Applies(vae))
            {
                await console.Out.Status().StartAsync($"{row.Name}: exact log p(x) over the plane", async ctx =>
                {
                    var progress = new SynchronousProgress<string>(s => ctx.Status($"{row.Name}: {s}"));
                    exact = await TorchRuntime.Run(() => Evaluation.PlaneIntegral.LogLikelihood(vae, test, progress, cancel));
                });
                console.Out.MarkupLineInterpolated($"{row.Name}: log p(x) = {exact!.Mean:0.00} by integration over the plane (each image to within {exact.MaxChange:0.000} nats)");
            }
            // The last epoch's test loss is the negative ELBO on the same binarized test images (one draw per image):
            // its distance to the estimate is what the posterior misses (KL(q || p(z|x)), up to the estimate's own gap).
            results.Add(new(row, Path.GetFileName(run.Root), training, trainer.History.Count, trainer.History.Sum(h => h.Seconds), -trainer.History[^1].TestLoss, likelihood, exact));
        }

        var table = Markdown(results, quick);
        AtomicFile.WriteAllText(Path.Combine(folder, "benchmark.md"), table);
        Json.WriteFile(Path.Combine(folder, "benchmark.json"), results.Select(r => new
        {
            row = r.Row.Name,
            model = r.Row.Model.Name,
            // The whole recipe, so that a row read without its command says how it was made: the run folder's name
            // (the model's and the recipe's suffixes) and what the name leaves out.
            folder = r.Folder,
            objective = parse.GetValue(ObjectiveOption),
            train_k = r.Row.Model.IwaeSamples,
            lr_schedule = r.Training.LrSchedule == LrSchedule.Cosine ? "cosine" : "constant",
            kl_warmup_epochs = r.Training.KlWarmupEpochs,
            precision = r.Training.Precision.Name(),
            threads,
            cpu = Runtime.Cpu.Current.ToString(),
            epochs = r.EpochsTrained,
            train_seconds = r.TrainSeconds,
            test_elbo = r.TestElbo,
            log_px = r.Likelihood.LogPx,
            nll = -r.Likelihood.LogPx,
            standard_error = r.Likelihood.StandardError,
            k = r.Likelihood.K,
            test_images = r.Likelihood.Images,
            estimate_seconds = r.Likelihood.Seconds,
            log_px_exact = r.Exact?.Mean,
            log_px_exact_error = r.Exact?.MaxChange,
            published = r.Row.Published,
        }).ToList());
        console.Out.Write(new Text(table));
        console.Out.MarkupLineInterpolated($"wrote {Path.Combine(folder, "benchmark.md")} and benchmark.json");
        return ExitCodes.Success;
    }

    static int Interrupted(CliConsole console)
    {
        console.Error.WriteLine("latent: interrupted; training keeps its checkpoint and the estimate its finished images; run the same command again to continue.");
        return ExitCodes.Interrupted;
    }

    /// <summary>benchmark.md: per row our figure (with its standard error, k, images, epochs and wall time) and each
    /// published figure with its source and the difference, in the published figure's own metric.</summary>
    static string Markdown(IReadOnlyList<RowResult> results, bool quick)
    {
        static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine($"# Likelihoods on dynamically binarized MNIST{(quick ? " (quick: not comparable with the published figures)" : "")}");
        md.AppendLine();
        md.AppendLine("Written by `latent benchmark" + (quick ? " --quick" : "") + "`. Training on dynamically binarized images (each pixel drawn afresh from its intensity), "
                      + "the test split binarized once (seed 0); our figure is the importance-weighted bound on log p(x) (Burda et al. 2015) with k samples per image, "
                      + "± its standard error over the test images. NLL = -log p(x), nats per image; lower is better. The published figures and their sources are in "
                      + "`src/LatentLab/Benchmarks/published.json`. A 2-d model's row also gives log p(x) itself, by integration over the plane (\"exact\"); \"test ELBO\" is the "
                      + "last epoch's, one posterior draw per test image, in the row's metric (its distance to ours is what the posterior misses).");
        md.AppendLine();
        md.AppendLine("| our model | ours | exact | test ELBO | k | test images | epochs | training | estimate | published | published figure | difference | source |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|");
        foreach (var (row, _, _, epochs, trainSeconds, elbo, l, exact) in results)
        {
            var published = row.Published;
            string Ours(string metric) => metric == "log_px" ? $"log p(x) {F(l.LogPx)} ± {F(l.StandardError)}" : $"NLL {F(-l.LogPx)} ± {F(l.StandardError)}";
            string Exact(string metric) => exact is null ? "—" : metric == "log_px" ? F(exact.Mean) : F(-exact.Mean);
            string Elbo(string metric) => metric == "log_px" ? F(elbo) : F(-elbo);
            string Prefix(string metric) => $"| {row.Model.Name} | {Ours(metric)} | {Exact(metric)} | {Elbo(metric)} | {l.K:N0} | {l.Images:N0} | {epochs} | {trainSeconds:0} s | {l.Seconds:0} s ";
            if (published.Count == 0) { md.AppendLine(Prefix("nll") + "| — | — | — | — |"); continue; }
            foreach (var p in published)
            {
                double ours = p.Metric == "log_px" ? l.LogPx : -l.LogPx;
                double better = p.Metric == "log_px" ? ours - p.Value : p.Value - ours;   // > 0: ours is better
                md.AppendLine(Prefix(p.Metric) + $"| {p.Label} | {F(p.Value)} | {(better >= 0 ? "+" : "")}{F(better)} {(better >= 0 ? "(ours better)" : "(published better)")} | {p.Source} |");
            }
        }
        return md.ToString();
    }
}
