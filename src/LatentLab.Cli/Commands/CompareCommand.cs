using System.CommandLine;
using System.Globalization;
using LatentLab.Analysis;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Models;
using LatentLab.Runtime;
using LatentLab.Training;
using LatentLab.Visualization;
using LatentLab.Visualization.Comparisons;
using LatentLab.Visualization.Report;
using Spectre.Console;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent compare</c>: trains, evaluates and draws each listed model that is not done yet, then writes
/// comparison.json, report.md and report.html under OUT/&lt;dataset&gt;/. Run again after an interruption, it
/// continues: training resumes from the checkpoint, and finished steps are not repeated.</summary>
public static class CompareCommand
{
    static readonly Option<string> DatasetOption = CommonOptions.Dataset();
    static readonly Option<int> EpochsOption = new("--epochs") { Description = "Epochs to train each model", DefaultValueFactory = _ => 20 };
    static readonly Option<string> ModelsOption = new("--models") { Description = "Comma-separated presets, or names of runs already trained in OUT/<dataset>/ with other options (vae_2d-beta4, vae_32d-conv)", DefaultValueFactory = _ => string.Join(",", ModelRegistry.PaperNames) };
    static readonly Option<bool> RetrainOption = new("--retrain") { Description = "Train every listed model afresh, even when a finished one exists" };
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<int?> ThreadsOption = CommonOptions.Threads();
    static readonly Option<int> IwaeKOption = new("--iwae-k") { Description = "Importance samples for the VAEs' IWAE bound (0 skips it)", DefaultValueFactory = _ => 100 };
    static readonly Option<int> TsnePointsOption = new("--tsne-points") { Description = "Test codes in the t-SNE of 32-d models", DefaultValueFactory = _ => 2000 };
    static readonly Option<long> SeedOption = new("--seed") { Description = "Seed for models trained here", DefaultValueFactory = _ => 0 };
    static readonly Option<string?> ArchOption = CommonOptions.Arch();
    static readonly Option<bool> NoTensorBoardOption = CommonOptions.NoTensorBoard();
    static readonly Option<string> PrecisionOption = CommonOptions.Precision();
    static readonly Option<int?> JobsOption = new("--jobs") { Description = "Models trained, evaluated and drawn at once, each in a process of its own (default: one per core, or cores / --threads; 1: one after another in this process)" };
    static readonly Option<bool> WorkerOption = new("--worker") { Hidden = true, Description = "Run one model's training, evaluation and figures for a parent compare, writing progress lines for it" };
    /// <summary>The options a parent does not pass to its workers: it gives each its model and thread count.</summary>
    static readonly string[] NotPassedToWorkers = ["--models", "--threads", "--jobs", "--worker"];

    // Rough cost of each step in epochs of training, for the overall progress bar.
    const double EvaluationUnits = 1.5, VisualizationUnits = 3;

    public static Command Create(CliConsole console)
    {
        var command = new Command("compare", "Train, evaluate and draw the models, then write comparison.json, report.md and report.html");
        Option[] options = [ DatasetOption, EpochsOption, ModelsOption, RetrainOption, OutOption, DataDirOption, ThreadsOption, IwaeKOption, TsnePointsOption, SeedOption, ArchOption, NoTensorBoardOption, PrecisionOption, JobsOption, WorkerOption, .. DatasetChoice.FolderFlags()];
        foreach (var option in options)
            command.Add(option);
        command.SetAction((parse, cancel) => RunAsync(parse, console, cancel));
        return command;
    }

    /// <param name="Completed">Epochs already in history.csv when the command started.</param>
    sealed record Plan(ModelConfig Model, RunFolder Folder, int Completed, bool Train, bool Resume, bool Evaluate, bool Visualize, string Why);

    static async Task<int> RunAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        var choice = DatasetChoice.From(parse, DatasetOption);
        var training = new TrainingConfig(parse.GetValue(EpochsOption), Seed: parse.GetValue(SeedOption)).Validate();
        var names = parse.GetValue(ModelsOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (names.Count == 0) throw new LatentLabException("--models lists no model");
        var arch = CommonOptions.ParseArch(parse.GetValue(ArchOption));
        var precisionChoice = Runtime.Precisions.ParseChoice(parse.GetValue(PrecisionOption)!);
        string outRoot = PathChecks.WritableFolder(parse.GetValue(OutOption)!, "--out");
        var presets = names.Select(n => Resolve(n, arch, RunFolder.For(outRoot, choice.Name, n))).ToList();
        int iwaeK = parse.GetValue(IwaeKOption);
        new EvaluationOptions(iwaeK).Validate();
        var visualize = new VisualizeOptions(parse.GetValue(TsnePointsOption)).Validate();
        bool retrain = parse.GetValue(RetrainOption);
        bool worker = parse.GetValue(WorkerOption);
        if (worker && presets.Count != 1) throw new LatentLabException("--worker runs one model: give --models one name");
        // A worker's lines are read by its parent: none may wrap; what its parent has said already, it does not repeat.
        if (worker) console.Out.Profile.Width = 4096;
        var preamble = worker ? console with { Out = CompareWorkers.Silent() } : console;
        int threads = TorchRuntime.ConfigureThreads(parse.GetValue(ThreadsOption));
        var precision = CommonOptions.ChoosePrecision(preamble.Out, precisionChoice, convolutional: presets.Any(m => m.Arch == Models.Architecture.Conv));
        training = training with { Precision = precision };

        using var data = await choice.LoadAsync(preamble, parse.GetValue(DataDirOption), cancel);
        var models = presets.Select(m => m.ForImages(data.Shape)).ToList();
        var plans = models.Select(m => MakePlan(m, RunFolder.For(outRoot, data.Name, m.Name), training, retrain, iwaeK, frechet: data.HasLabels)).ToList();
        string datasetFolder = Path.GetFullPath(Path.Combine(outRoot, data.Name));
        preamble.Out.MarkupLineInterpolated($"comparing {string.Join(", ", models.Select(m => m.Name))} on {data.Name} ({threads} {(threads == 1 ? "thread" : "threads")}, {precision.Name()}); results in {datasetFolder}");
        foreach (var plan in plans) preamble.Out.MarkupLineInterpolated($"  {plan.Model.Name}: {plan.Why}");
        var stages = new StageClock();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // Each model as its folder names it, and as the command line gave it (a worker resolves the latter again).
        var pending = plans.Select((p, i) => (Plan: p, Given: names[i])).Where(x => x.Plan.Train || x.Plan.Evaluate || x.Plan.Visualize)
            .Select(x => (x.Plan.Model.Name, x.Given)).ToList();
        int jobs = worker ? 1 : Jobs(parse.GetValue(JobsOption), parse.GetValue(ThreadsOption), pending.Count);
        if (jobs > 1)
        {
            // Each model's own work in a process of its own; what is left here (the codes against N(0, I), the
            // explorers, the figures side by side, the reports) reads their folders.
            int workerThreads = parse.GetValue(ThreadsOption) ?? Math.Max(1, Environment.ProcessorCount / jobs);
            console.Out.MarkupLineInterpolated($"{pending.Count} models to train, evaluate or draw, {jobs} at once, each in a process of its own with {workerThreads} {(workerThreads == 1 ? "thread" : "threads")}");
            var outcome = await CompareWorkers.RunAsync(parse, console, pending, jobs, workerThreads, NotPassedToWorkers, stages, cancel);
            if (outcome.Failure is { } failure)
            {
                console.WriteError(failure);
                return outcome.ExitCode;
            }
            if (outcome.Interrupted)
            {
                console.Error.WriteLine("latent: interrupted; run the same command again to continue where it stopped.");
                return ExitCodes.Interrupted;
            }
            console.Out.MarkupLineInterpolated($"{pending.Count} models done in {clock.Elapsed.TotalSeconds:0.0} s, {jobs} at once (their stages below add up the time each spent)");
            plans = models.Select(m => MakePlan(m, RunFolder.For(outRoot, data.Name, m.Name), training, retrain: false, iwaeK, frechet: data.HasLabels)).ToList();
        }

        int batches = (int)((data.TrainCount + training.BatchSize - 1) / training.BatchSize);
        double Units(Plan p) => (p.Train ? RemainingEpochs(p, training) : 0) + (p.Evaluate ? EvaluationUnits : 0) + (p.Visualize ? VisualizationUnits : 0) + 0.2;
        bool interrupted = false;
        var results = new List<ModelResult>();
        var explorers = new List<ExplorerModel>();
        var evolutions = new List<EvolutionModel>();
        IReadOnlyList<ComparisonFigure> sideBySide = [];
        // Each model is loaded (and its files checked) once, and kept for the side-by-side figures drawn at the end.
        var loaded = new List<Autoencoder>();

        try
        {
            // A worker's bars are drawn by its parent, from the progress lines it writes.
            await TrainingDisplay.CreateProgress(worker ? CompareWorkers.Silent() : console.Out).StartAsync(async ctx =>
            {
                var overall = ctx.AddTask("all models", maxValue: Math.Max(plans.Sum(Units), 1e-9));
                var current = ctx.AddTask("starting", maxValue: 1);
                using var reporter = worker ? new CompareWorkers.Reporter(console.Out, overall, current) : null;
                double done = 0;
                foreach (var plan in plans)
                {
                    var name = plan.Model.Name;
                    if (plan.Train)
                    {
                        // A run resumed under auto continues in the precision it began in.
                        var (own, _) = plan.Resume ? RunPrecision.Choose(precisionChoice, plan.Model, plan.Folder, resume: true) : (precision, "");
                        using var trainer = new Trainer(plan.Model, training with { Precision = own }, data, plan.Folder, tensorBoard: !parse.GetValue(NoTensorBoardOption));
                        current.MaxValue = (double)training.Epochs * batches;
                        current.Value = 0;
                        int startEpoch = plan.Resume ? plan.Completed : 0;
                        var display = new OverallProgress(new TrainingDisplay(console.Out, current, batches, name), overall, done, startEpoch, batches);
                        stages.Enter("training", name);
                        var outcome = await TorchRuntime.Run(() => trainer.Train(plan.Resume, display, cancel));
                        stages.Stop();
                        if (outcome == TrainingOutcome.Interrupted) { interrupted = true; return; }
                        done += RemainingEpochs(plan, training);
                        overall.Value = done;
                    }

                    var model = plan.Folder.LoadModel();
                    loaded.Add(model);
                    var record = plan.Folder.ReadRecord();
                    if (plan.Evaluate)
                    {
                        var options = new EvaluationOptions(iwaeK, record.Training.Seed, record.Training.Binarize, CommonOptions.FeatureNets(parse.GetValue(DataDirOption)), precision);
                        var stage = new SynchronousProgress<string>(s => { current.Description = $"{name}: evaluating, {s}"; stages.Enter("evaluation", s); });
                        // The stages report text ("IWAE k=100: 1,984/10,000 images"), not a fraction: no percentage to show.
                        current.IsIndeterminate = true;
                        var metrics = await TorchRuntime.Run(() => Evaluator.Evaluate(model, data, options, stage));
                        stages.Stop();
                        plan.Folder.SaveEvaluation(metrics, model, data);
                        console.Out.MarkupLineInterpolated($"{name}: evaluated in {metrics.EvalSeconds:0.0} s: MSE {metrics.TestMse:0.00000}, SSIM {metrics.TestSsim:0.000}{(metrics.TestLogPxIwae is { } lp ? $", log p(x) >= {lp:0.00}" : "")}");
                        done += EvaluationUnits;
                        overall.Value = done;
                    }
                    if (plan.Visualize)
                    {
                        var stage = new SynchronousProgress<string>(s => { current.Description = $"{name}: drawing, {s}"; stages.Enter("figures", s); });
                        current.IsIndeterminate = true;
                        var drawn = await TorchRuntime.Run(() => Visualizer.Run(model, data, plan.Folder, visualize with { Seed = record.Training.Seed }, stage, cancel));
                        stages.Stop();
                        console.Out.MarkupLineInterpolated($"{name}: drew {drawn.Written.Count} figures and animations");
                        foreach (var note in drawn.Skipped) console.Out.MarkupLineInterpolated($"[yellow]{name}: skipped {note}[/]");
                        done += VisualizationUnits;
                        overall.Value = done;
                    }
                    current.IsIndeterminate = false;
                    // A worker's model is done: its parent measures the codes and draws the rest.
                    if (worker) { done += 0.2; overall.Value = done; continue; }
                    current.Description = $"{name}: measuring the codes against N(0, I)";
                    stages.Enter("codes against N(0, I) and the explorer");
                    double gap = PriorGap.Measure(model, data.TestImages, record.Training.Seed);
                    results.Add(Comparison.Collect(plan.Folder, gap));
                    if (model.Config.LatentDim == 2) explorers.Add(ExplorerModel.From(model, data.TestImages, data.TestLabels));
                    if (LatentSnapshots.Applies(model.Config) && File.Exists(plan.Folder.SnapshotsPath))
                        evolutions.Add(EvolutionModel.From(name, plan.Folder.SnapshotsPath, data.HasLabels ? data.ClassNames : Visualizer.UnlabelledClassNames));
                    stages.Stop();
                    done += 0.2;
                    overall.Value = done;
                    if (cancel.IsCancellationRequested) { interrupted = true; return; }
                }
                if (worker) return;
                current.Description = "drawing the models side by side";
                var runs = plans.Zip(results, loaded).Select(p => new ComparedRun(p.First.Model.Name, p.Third,
                    History.Read(p.First.Folder.HistoryPath), p.Second.Metrics, p.Second.PriorGapNats)).ToList();
                var drawing = new SynchronousProgress<string>(s => { current.Description = s; stages.Enter("side by side", s); });
                sideBySide = await TorchRuntime.Run(() => SideBySide.Draw(runs, data, datasetFolder, training.Seed, drawing, cancel));
                stages.Stop();
                current.Description = "writing the reports";
                overall.Value = overall.MaxValue;
                current.Value = current.MaxValue;
            });
        }
        finally
        {
            foreach (var model in loaded) model.Dispose();
        }
        if (interrupted)
        {
            console.Error.WriteLine("latent: interrupted; run the same command again to continue where it stopped.");
            return ExitCodes.Interrupted;
        }
        if (worker)
        {
            console.Out.WriteLine(CompareWorkers.StagesLine(stages));
            return ExitCodes.Success;
        }

        stages.Enter("reports");
        var comparison = Comparison.Create(data.Name, results, sideBySide);
        Json.WriteFile(Path.Combine(datasetFolder, Comparison.FileName), comparison);
        AtomicFile.WriteAllText(Path.Combine(datasetFolder, MarkdownReport.FileName), MarkdownReport.Render(comparison));
        AtomicFile.WriteAllText(Path.Combine(datasetFolder, HtmlReport.FileName), HtmlReport.Render(comparison, datasetFolder, explorers, evolutions));
        console.Out.Write(SummaryTable(comparison));
        foreach (var file in new[] { Comparison.FileName, MarkdownReport.FileName, HtmlReport.FileName })
            console.Out.MarkupLineInterpolated($"wrote {Path.Combine(datasetFolder, file)}");
        console.Out.MarkupLineInterpolated($"time by stage: {stages.Summary()}");
        console.Out.MarkupLineInterpolated($"done in {clock.Elapsed.TotalMinutes:0.0} min");
        return ExitCodes.Success;
    }

    /// <summary>A preset (with --arch applied), or the name of a run already trained in OUT/&lt;dataset&gt;/ with other
    /// options (vae_2d-beta4, vae_32d-conv, ...), whose recorded configuration is used.</summary>
    static ModelConfig Resolve(string name, Architecture? arch, RunFolder folder)
    {
        if (ModelRegistry.Names.Contains(name)) return ModelRegistry.Get(name).WithOverrides(arch: arch);
        if (File.Exists(folder.ConfigPath)) return folder.ReadRecord().Model;
        throw new LatentLabException($"unknown model '{name}': neither a preset ({string.Join(", ", ModelRegistry.Names)}) nor a run trained in {Path.GetDirectoryName(folder.Root)}");
    }

    /// <summary>What is left to do for one model, from the files in its folder.</summary>
    /// <param name="frechet">The data have labels, so metrics.json should hold the Fréchet distances: a model evaluated
    /// before they existed is evaluated again.</param>
    static Plan MakePlan(ModelConfig model, RunFolder folder, TrainingConfig training, bool retrain, int iwaeK, bool frechet)
    {
        bool trained = File.Exists(folder.ConfigPath) && File.Exists(folder.ModelPath);
        int completed = trained || File.Exists(folder.CheckpointPath) ? CompletedEpochs(folder) : 0;
        bool train, resume;
        string why;
        if (retrain) (train, resume, why) = (true, false, $"training afresh for {Findings.Epochs(training.Epochs)} (--retrain)");
        else if (completed >= training.Epochs && trained)
            (train, resume, why) = (false, false, completed == training.Epochs ? $"trained ({Findings.Epochs(completed)})" : $"keeping its finished {completed}-epoch run (--retrain trains it for {training.Epochs})");
        else if (File.Exists(folder.CheckpointPath))
            (train, resume, why) = (true, true, $"continuing from its checkpoint after epoch {completed} of {training.Epochs}");
        else (train, resume, why) = (true, false, $"training for {Findings.Epochs(training.Epochs)}");

        DateTime weights = train ? DateTime.MaxValue : File.GetLastWriteTimeUtc(folder.ModelPath);
        bool evaluate = train || !folder.IsMeasured(model.Kind == ModelKind.Vae, iwaeK, frechet);
        bool visualize = train || Visualizer.ExpectedFiles(model, File.Exists(folder.SnapshotsPath))
            .Any(f => !File.Exists(Path.Combine(folder.Root, f)) || File.GetLastWriteTimeUtc(Path.Combine(folder.Root, f)) < weights);
        if (!train) why += (evaluate, visualize) switch
        {
            (true, true) => "; evaluating and drawing",
            (true, false) => "; evaluating",
            (false, true) => "; drawing",
            _ => "; evaluated and drawn",
        };
        return new Plan(model, folder, completed, train, resume, evaluate, visualize, why);
    }

    /// <summary>Models at once: --jobs, else one per core (or cores / --threads), never more than there are models to do.</summary>
    static int Jobs(int? jobs, int? threads, int pending)
    {
        if (jobs is < 1 or > 64) throw new LatentLabException($"--jobs must be between 1 and 64, got {jobs}");
        int wanted = jobs ?? Math.Max(1, Environment.ProcessorCount / (threads ?? 1));
        return Math.Max(1, Math.Min(wanted, pending));
    }

    static double RemainingEpochs(Plan plan, TrainingConfig training) =>
        plan.Train ? training.Epochs - (plan.Resume ? plan.Completed : 0) : 0;

    /// <summary>Epochs recorded in history.csv (0 when there is none).</summary>
    static int CompletedEpochs(RunFolder folder) => folder.EpochsTrained();

    /// <summary>Forwards training progress to the model's bar and moves the overall bar with it.</summary>
    sealed class OverallProgress(TrainingDisplay inner, ProgressTask overall, double before, int startEpoch, int batches) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            inner.Report(p);
            if (p.Message is null && p.Epoch > 0)
                overall.Value = before + (p.Epoch - 1 - startEpoch) + (double)p.Batch / batches;
        }
    }

    static Spectre.Console.Table SummaryTable(Comparison comparison)
    {
        var models = LatentLab.Visualization.Report.Table.Ordered(comparison.Models);
        var table = new Spectre.Console.Table().Title($"{comparison.Dataset}: {models.Count} models");
        table.AddColumn("metric");
        foreach (var m in models) table.AddColumn(new TableColumn(m.Name).RightAligned());
        foreach (var row in LatentLab.Visualization.Report.Table.Rows)
            table.AddRow([row.Metric, .. models.Select(row.Value)]);
        return table;
    }
}
