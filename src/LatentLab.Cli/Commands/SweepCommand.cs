using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.IO;
using LatentLab.Runtime;
using LatentLab.Sweeps;
using Spectre.Console;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent sweep plan|run|export|collect NAME</c>: a grid of runs planned once, run alike on this machine,
/// as a Kubernetes Indexed Job or as a Slurm array, and collected into a table and the rate-distortion plane.</summary>
public static class SweepCommand
{
    static readonly Argument<string> NameArgument = new("NAME") { Description = "The sweep's name (its folder: OUT/<dataset>/sweeps/NAME)" };
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<string?> SweepDatasetOption = new("--dataset")
    {
        Description = "The sweep's dataset (default: found from NAME under OUT/*/sweeps/; plan: mnist)",
    };

    // plan: the grid as options, or a sweep file.
    static readonly Option<string?> FileOption = new("--file") { Description = "A sweep file (YAML; 'plan' writes one beside sweep.json)" };
    static readonly Option<string?> ModelsOption = new("--model") { Description = "Models, comma separated: vae, ae or presets (vae_2d, ...)" };
    static readonly Option<string?> LatentDimsOption = new("--latent-dim") { Description = "Latent sizes, comma separated (default: each preset's own)" };
    static readonly Option<string?> BetasOption = new("--beta") { Description = "KL weights of the VAEs, comma separated (default 1)" };
    static readonly Option<string?> SeedsOption = new("--seed") { Description = "Seeds, comma separated (default 0)" };
    static readonly Option<int> EpochsOption = new("--epochs") { Description = "Epochs per point", DefaultValueFactory = _ => 30 };
    static readonly Option<int> BatchSizeOption = new("--batch-size") { Description = "Images per optimizer step", DefaultValueFactory = _ => 128 };
    static readonly Option<double> LearningRateOption = new("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 1e-3 };
    static readonly Option<int?> TrainSizeOption = new("--train-size") { Description = "Use only the first N training images" };
    static readonly Option<int?> TestSizeOption = new("--test-size") { Description = "Use only the first N test images" };
    static readonly Option<bool> BinarizeOption = new("--binarize") { Description = "Train on dynamically binarized images" };
    static readonly Option<int?> PlanThreadsOption = new("--threads") { Description = "libtorch threads per point (default: the cores divided among the points running at once)" };
    static readonly Option<int> IwaeKOption = new("--iwae-k") { Description = "Importance samples for each VAE's IWAE bound (0 skips it)", DefaultValueFactory = _ => 100 };
    static readonly Option<string?> ArchOption = CommonOptions.Arch();
    static readonly Option<string?> PlanPrecisionOption = new("--precision")
    {
        Description = "Number format of every point's products: fp32, bf16 or auto (the default: resolved on the machine each point runs on, and printed)",
    };
    static readonly Option<string> PlanDatasetOption = CommonOptions.Dataset();

    // run
    static readonly Option<int?> IndexOption = new("--index") { Description = $"Run only this point (also read from ${KubernetesIndex} or ${SlurmIndex})" };
    static readonly Option<int> ParallelOption = new("--parallel") { Description = "Points at once on this machine, each its own process", DefaultValueFactory = _ => 1 };

    // export
    static readonly Option<string> ToOption = new("--to") { Description = "kubernetes (an Indexed Job) or slurm (an sbatch array script)", Required = true };
    static readonly Option<string?> OutputOption = new("--output") { Description = "The file to write (default: OUT/<dataset>/sweeps/NAME/job.yaml or sweep.sbatch)" };
    static readonly Option<int> ExportParallelOption = new("--parallel") { Description = "Points running at once on the cluster", DefaultValueFactory = _ => 4 };
    static readonly Option<int> BackoffOption = new("--backoff-limit-per-index") { Description = "Kubernetes: retries of a failed point", DefaultValueFactory = _ => 3 };
    static readonly Option<string> ImageOption = new("--image") { Description = "Kubernetes: the container image (built by the repository's Dockerfile)", DefaultValueFactory = _ => "latentlab:0.1.0" };
    static readonly Option<string> ClaimOption = new("--claim") { Description = "Kubernetes: the PersistentVolumeClaim holding the results and data", DefaultValueFactory = _ => "latentlab" };
    static readonly Option<string?> CommandOption = new("--latent") { Description = "Slurm: how a node runs latent (default: this very latent, by its full path)" };
    static readonly Option<string?> ResultsOption = new("--results") { Description = "The results root as the job sees it (default: --out, made absolute; Kubernetes: /work/results)" };
    static readonly Option<string?> JobDataOption = new("--job-data-dir") { Description = "The data folder as the job sees it (default: --data-dir, made absolute; Kubernetes: /work/data)" };

    public const string KubernetesIndex = "JOB_COMPLETION_INDEX";
    public const string SlurmIndex = "SLURM_ARRAY_TASK_ID";

    public static Command Create(CliConsole console)
    {
        var command = new Command("sweep", "Grids of runs (models x latent sizes x betas x seeds): plan, run here or on a cluster, collect");

        var plan = new Command("plan", "Plan a grid: write OUT/<dataset>/sweeps/NAME/sweep.json (every point) and sweep.yaml (the grid)");
        plan.Add(NameArgument);
        foreach (var o in new Option[] { FileOption, ModelsOption, LatentDimsOption, BetasOption, SeedsOption, PlanDatasetOption, EpochsOption,
                     BatchSizeOption, LearningRateOption, TrainSizeOption, TestSizeOption, BinarizeOption, PlanThreadsOption, IwaeKOption, ArchOption, PlanPrecisionOption,
                     OutOption, DataDirOption })
            plan.Add(o);
        plan.SetAction((parse, cancel) => PlanAsync(parse, console, cancel));
        command.Add(plan);

        var run = new Command("run", "Run every point not done yet (--parallel at once), or one point (--index, $JOB_COMPLETION_INDEX, $SLURM_ARRAY_TASK_ID)");
        run.Add(NameArgument);
        foreach (var o in new Option[] { IndexOption, ParallelOption, PlanThreadsOption, SweepDatasetOption, OutOption, DataDirOption }) run.Add(o);
        run.SetAction((parse, cancel) => RunAsync(parse, console, cancel));
        command.Add(run);

        var export = new Command("export", "Write what a cluster needs to run the sweep: a Kubernetes Indexed Job or a Slurm array script");
        export.Add(NameArgument);
        foreach (var o in new Option[] { ToOption, OutputOption, ExportParallelOption, BackoffOption, ImageOption, ClaimOption, CommandOption,
                     ResultsOption, JobDataOption, SweepDatasetOption, OutOption, DataDirOption })
            export.Add(o);
        export.SetAction(parse => Export(parse, console));
        command.Add(export);

        var collect = new Command("collect", "Gather every point's metrics into sweep.csv and draw the rate-distortion plane and the metrics by latent size");
        collect.Add(NameArgument);
        foreach (var o in new Option[] { SweepDatasetOption, OutOption }) collect.Add(o);
        collect.SetAction(parse => Collect(parse, console));
        command.Add(collect);
        return command;
    }

    // ---- plan ----

    static async Task<int> PlanAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        string name = SweepPlan.CheckName(parse.GetValue(NameArgument)!);
        var spec = SpecFrom(parse);
        string outRoot = PathChecks.WritableFolder(parse.GetValue(OutOption)!, "--out");
        var choice = new DatasetChoice(spec.Dataset, new ImageFolderOptions());
        _ = choice.Name;
        using var data = await choice.LoadAsync(console, parse.GetValue(DataDirOption), cancel);
        var plan = SweepPlan.Create(name, data.Name, spec, data.Shape);
        string folder = SweepPlan.FolderOf(outRoot, data.Name, name);
        if (File.Exists(Path.Combine(folder, SweepPlan.FileName)))
        {
            var existing = SweepPlan.Read(folder);
            if (!existing.SameGrid(plan with { CreatedUtc = existing.CreatedUtc }))
                throw new LatentLabException($"sweep {name} is already planned in {folder} with another grid; choose another name, or delete that folder to plan it afresh");
            console.Out.MarkupLineInterpolated($"sweep {name} is already planned with this grid: {plan.Points.Count} points in {folder}");
            return ExitCodes.Success;
        }
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "sweep.yaml"), spec.ToYaml());
        Json.WriteFile(Path.Combine(folder, SweepPlan.FileName), plan);
        int vaes = plan.Points.Count(p => p.Kind == Models.ModelKind.Vae);
        console.Out.MarkupLineInterpolated($"planned sweep {name}: {plan.Points.Count} points ({vaes} VAE, {plan.Points.Count - vaes} AE) on {data.Name}, {spec.Epochs} epochs each");
        console.Out.MarkupLineInterpolated($"wrote {Path.Combine(folder, SweepPlan.FileName)} and sweep.yaml; next: latent sweep run {name} --parallel 2 (or export it with --to kubernetes|slurm)");
        return ExitCodes.Success;
    }

    static SweepSpec SpecFrom(ParseResult parse)
    {
        Option[] gridOptions = [ModelsOption, LatentDimsOption, BetasOption, SeedsOption, PlanDatasetOption, EpochsOption, BatchSizeOption,
            LearningRateOption, TrainSizeOption, TestSizeOption, BinarizeOption, PlanThreadsOption, IwaeKOption, ArchOption, PlanPrecisionOption];
        if (parse.GetValue(FileOption) is { } file)
        {
            var given = gridOptions.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (given.Count > 0) throw new LatentLabException($"give the grid either in --file or as options, not both ({string.Join(", ", given)} with --file {file})");
            return SweepSpec.ReadYaml(file);
        }
        const string source = "the command line";
        if (parse.GetValue(ModelsOption) is not { } models) throw new LatentLabException("sweep plan needs --model (a comma list: vae, ae, vae_2d, ...) or --file");
        return new SweepSpec(
            parse.GetValue(PlanDatasetOption)!,
            models.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            parse.GetValue(LatentDimsOption) is { } dims ? Split(dims, "--latent-dim", s => int.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : (int?)null) : [],
            parse.GetValue(BetasOption) is { } betas ? Split(betas, "--beta", s => double.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : (double?)null) : [1.0],
            parse.GetValue(SeedsOption) is { } seeds ? Split(seeds, "--seed", s => long.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : (long?)null) : [0L],
            parse.GetValue(EpochsOption), parse.GetValue(BatchSizeOption), parse.GetValue(LearningRateOption),
            parse.GetValue(TrainSizeOption), parse.GetValue(TestSizeOption), parse.GetValue(BinarizeOption), parse.GetValue(PlanThreadsOption),
            parse.GetValue(IwaeKOption), CommonOptions.ParseArch(parse.GetValue(ArchOption)) ?? Models.Architecture.Mlp,
            Precision: parse.GetValue(PlanPrecisionOption)).Validate(source);
    }

    static IReadOnlyList<T> Split<T>(string list, string option, Func<string, T?> parse) where T : struct
    {
        var items = list.Split(',', StringSplitOptions.TrimEntries);
        if (items.All(string.IsNullOrEmpty)) throw new LatentLabException($"{option} is empty");
        return items.Select(item => parse(item) ?? throw new LatentLabException($"{option}: '{item}' is not a {(typeof(T) == typeof(double) ? "number" : "whole number")}")).ToList();
    }

    // ---- locating a planned sweep ----

    /// <summary>The folder of a planned sweep: OUT/&lt;dataset&gt;/sweeps/NAME, the dataset given or found.</summary>
    static string Locate(ParseResult parse)
    {
        string name = SweepPlan.CheckName(parse.GetValue(NameArgument)!);
        string outRoot = PathChecks.FolderNotFile(parse.GetValue(OutOption)!, "--out");
        if (parse.GetValue(SweepDatasetOption) is { } dataset)
        {
            string named = ImageFolder.IsFolder(dataset) ? ImageFolder.NameOf(dataset) : dataset;
            return Path.GetFullPath(SweepPlan.FolderOf(outRoot, named, name));
        }
        var found = Directory.Exists(outRoot)
            ? Directory.GetDirectories(outRoot).Select(d => Path.Combine(d, "sweeps", name)).Where(d => File.Exists(Path.Combine(d, SweepPlan.FileName))).ToList()
            : [];
        return found.Count switch
        {
            1 => Path.GetFullPath(found[0]),
            0 => throw new LatentLabException($"no sweep named {name} under {outRoot}/*/sweeps/; plan it with 'latent sweep plan {name}'"),
            _ => throw new LatentLabException($"sweeps named {name} exist for several datasets ({string.Join(", ", found.Select(f => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(f)))))}); say which with --dataset"),
        };
    }

    // ---- run ----

    static async Task<int> RunAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        string folder = Locate(parse);
        var plan = SweepPlan.Read(folder);
        int? index = parse.GetValue(IndexOption) ?? EnvironmentIndex();
        if (index is { } i) return await RunPointAsync(parse, console, folder, plan, plan.Point(i), cancel);

        int parallel = parse.GetValue(ParallelOption);
        if (parallel is < 1 or > 256) throw new LatentLabException($"--parallel must be between 1 and 256, got {parallel}");
        var todo = plan.Points.Where(p => !SweepRunner.IsDone(folder, p, plan.Spec.IwaeK)).ToList();
        if (todo.Count == 0)
        {
            console.Out.MarkupLineInterpolated($"sweep {plan.Name}: all {plan.Points.Count} points are done; next: latent sweep collect {plan.Name}");
            return ExitCodes.Success;
        }
        int threads = plan.Spec.Threads ?? parse.GetValue(PlanThreadsOption) ?? Math.Max(1, Environment.ProcessorCount / parallel);
        string logs = Path.Combine(folder, "logs");
        Directory.CreateDirectory(logs);
        console.Out.MarkupLineInterpolated($"sweep {plan.Name}: {todo.Count} of {plan.Points.Count} points to run, {parallel} at once, {threads} thread(s) each; each point's output in {logs}/");
        var failed = new List<(int Index, int Exit)>();
        string outRoot = Path.GetFullPath(parse.GetValue(OutOption)!);
        string? dataDir = parse.GetValue(DataDirOption) is { } d ? Path.GetFullPath(d) : null;

        await console.Out.Progress().AutoClear(false).Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask($"sweep {plan.Name}", maxValue: todo.Count);
                using var slots = new SemaphoreSlim(parallel);
                var tasks = todo.Select(async point =>
                {
                    await slots.WaitAsync(CancellationToken.None);
                    try
                    {
                        if (cancel.IsCancellationRequested) return;
                        var args = new List<string> { "sweep", "run", plan.Name, "--index", point.Index.ToString(CultureInfo.InvariantCulture),
                            "--dataset", plan.Dataset, "--out", outRoot, "--threads", threads.ToString(CultureInfo.InvariantCulture) };
                        if (dataDir is not null) args.AddRange(["--data-dir", dataDir]);
                        int exit = await RunChildAsync(args, Path.Combine(logs, $"{point.Index:D3}.log"), cancel);
                        lock (failed)
                        {
                            if (exit != 0) failed.Add((point.Index, exit));
                            string result = exit == 0 ? "done" : $"[red]failed (exit {exit})[/]";
                            console.Out.MarkupLine($"point {point.Index} ({Markup.Escape(Path.GetFileName(point.Folder))}): {result}");
                            bar.Increment(1);
                        }
                    }
                    finally { slots.Release(); }
                }).ToList();
                await Task.WhenAll(tasks);
            });

        if (cancel.IsCancellationRequested)
        {
            console.Error.WriteLine("latent: interrupted; every point keeps its checkpoint; run the same command again to continue.");
            return ExitCodes.Interrupted;
        }
        if (failed.Count > 0)
        {
            console.WriteError($"{failed.Count} of {todo.Count} points failed ({string.Join(", ", failed.OrderBy(f => f.Index).Select(f => $"{f.Index}: exit {f.Exit}"))}); their logs are in {logs}/; running the same command again retries them");
            return ExitCodes.InternalError;
        }
        console.Out.MarkupLineInterpolated($"sweep {plan.Name}: all {plan.Points.Count} points done; next: latent sweep collect {plan.Name}");
        return ExitCodes.Success;
    }

    static int? EnvironmentIndex()
    {
        foreach (var variable in new[] { KubernetesIndex, SlurmIndex })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
                return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                    : throw new LatentLabException($"${variable} is '{value}', not a point index");
        return null;
    }

    static async Task<int> RunPointAsync(ParseResult parse, CliConsole console, string folder, SweepPlan plan, Sweeps.SweepPoint point, CancellationToken cancel)
    {
        int threads = TorchRuntime.ConfigureThreads(plan.Spec.Threads ?? parse.GetValue(PlanThreadsOption) ?? Environment.ProcessorCount);
        if (SweepRunner.IsDone(folder, point, plan.Spec.IwaeK))
        {
            console.Out.MarkupLineInterpolated($"point {point.Index} of sweep {plan.Name} is done already ({SweepRunner.FolderOf(folder, point).Root}); nothing to do");
            return ExitCodes.Success;
        }
        using var full = await new DatasetChoice(plan.Spec.Dataset, new ImageFolderOptions()).LoadAsync(console, parse.GetValue(DataDirOption), cancel);
        using var sliced = plan.Spec.TrainSize is null && plan.Spec.TestSize is null ? null
            : full.Slice(Math.Min(plan.Spec.TrainSize ?? full.TrainCount, full.TrainCount), Math.Min(plan.Spec.TestSize ?? full.TestCount, full.TestCount));
        var data = sliced ?? full;
        string label = $"point {point.Index}";
        var (precision, why) = SweepRunner.PointPrecision(folder, plan, point);
        point = point with { Training = point.Training with { Precision = precision } };
        console.Out.MarkupLineInterpolated($"sweep {plan.Name}, {label}: {point.Config.Name}, seed {point.Seed}, {point.Training.Epochs} epochs on {data.TrainCount:N0} {data.Name} images, {threads} thread(s)");
        CommonOptions.Announce(console.Out, precision, why);

        PointOutcome outcome = PointOutcome.Completed;
        await TrainingDisplay.CreateProgress(console.Out).StartAsync(async ctx =>
        {
            int batches = (int)((data.TrainCount + point.Training.BatchSize - 1) / point.Training.BatchSize);
            var task = ctx.AddTask(label, maxValue: (double)point.Training.Epochs * batches);
            var display = new TrainingDisplay(console.Out, task, batches, label);
            var evaluation = new SynchronousProgress<string>(s => task.Description = $"{label}: evaluating, {s}");
            outcome = await TorchRuntime.Run(() => SweepRunner.Run(folder, plan, point, data, CommonOptions.FeatureNets(parse.GetValue(DataDirOption)), display, evaluation, cancel));
            task.Value = task.MaxValue;
        });
        switch (outcome)
        {
            case PointOutcome.Interrupted:
                console.Error.WriteLine($"latent: interrupted; {label} keeps its checkpoint; run the same command again to continue.");
                return ExitCodes.Interrupted;
            case PointOutcome.AlreadyDone:
                console.Out.MarkupLineInterpolated($"{label} of sweep {plan.Name} was finished by another attempt meanwhile; nothing to do");
                return ExitCodes.Success;
        }
        var metrics = Json.ReadFile<Evaluation.Metrics>(SweepRunner.FolderOf(folder, point).MetricsPath);
        console.Out.MarkupLineInterpolated($"{label} done: MSE {metrics.TestMse:0.00000}, SSIM {metrics.TestSsim:0.000}{(metrics.TestElbo is { } elbo ? $", ELBO {elbo:0.00}, KL {metrics.TestKl:0.00}" : "")}; wrote {SweepRunner.FolderOf(folder, point).Root}");
        return ExitCodes.Success;
    }

    static async Task<int> RunChildAsync(IReadOnlyList<string> args, string logPath, CancellationToken cancel)
    {
        await using var log = new StreamWriter(logPath, append: true);
        var gate = new object();
        void Write(string line) { lock (gate) log.WriteLine(line); }
        return await SelfProcess.RunAsync(args, Write, Write, cancel, unsetVariables: [KubernetesIndex, SlurmIndex]);
    }

    // ---- export ----

    static int Export(ParseResult parse, CliConsole console)
    {
        string folder = Locate(parse);
        var plan = SweepPlan.Read(folder);
        string to = parse.GetValue(ToOption)!;
        int parallel = parse.GetValue(ExportParallelOption);
        if (parallel < 1) throw new LatentLabException($"--parallel must be positive, got {parallel}");
        string outRoot = Path.GetFullPath(parse.GetValue(OutOption)!);
        string? dataDir = parse.GetValue(DataDirOption) is { } d ? Path.GetFullPath(d) : null;
        string written;
        switch (to)
        {
            case "kubernetes":
            {
                int backoff = parse.GetValue(BackoffOption);
                if (backoff < 0) throw new LatentLabException($"--backoff-limit-per-index must be 0 or more, got {backoff}");
                var yaml = SweepExport.KubernetesJob(plan, parse.GetValue(ImageOption)!, parse.GetValue(ClaimOption)!, parallel, backoff,
                    parse.GetValue(ResultsOption) ?? "/work/results", parse.GetValue(JobDataOption) ?? "/work/data");
                written = parse.GetValue(OutputOption) ?? Path.Combine(folder, "job.yaml");
                AtomicFile.WriteAllText(written, yaml);
                console.Out.MarkupLineInterpolated($"wrote {written}: an Indexed Job of {plan.Points.Count} completions, {parallel} at once; next: kubectl apply -f {written}");
                break;
            }
            case "slurm":
            {
                var (program, prefix) = SelfProcess.Command();
                string latent = parse.GetValue(CommandOption) ?? string.Join(" ", new[] { program }.Concat(prefix).Select(SweepExport.ShellQuote));
                var script = SweepExport.SlurmScript(plan, latent, parallel, parse.GetValue(ResultsOption) ?? outRoot,
                    parse.GetValue(JobDataOption) ?? dataDir ?? DataDirectory.Resolve(null), Path.Combine(folder, "logs"));
                Directory.CreateDirectory(Path.Combine(folder, "logs"));   // Slurm does not create the folder of --output
                written = parse.GetValue(OutputOption) ?? Path.Combine(folder, "sweep.sbatch");
                AtomicFile.WriteAllText(written, script);
                console.Out.MarkupLineInterpolated($"wrote {written}: an array of {plan.Points.Count} tasks, {parallel} at once; next: sbatch {written}");
                break;
            }
            default:
                throw new LatentLabException($"--to must be kubernetes or slurm, got '{to}'");
        }
        return ExitCodes.Success;
    }

    // ---- collect ----

    static int Collect(ParseResult parse, CliConsole console)
    {
        string folder = Locate(parse);
        var plan = SweepPlan.Read(folder);
        var results = SweepResults.Gather(folder, plan);
        AtomicFile.WriteAllText(Path.Combine(folder, SweepResults.CsvName), results.ToCsv());
        var figures = Visualization.Sweeps.SweepFigures.Draw(results, Path.Combine(folder, "figures"));
        console.Out.MarkupLineInterpolated($"sweep {plan.Name}: {results.Rows.Count} of {plan.Points.Count} points collected into {Path.Combine(folder, SweepResults.CsvName)}");
        if (results.Missing.Count > 0)
            console.Out.MarkupLineInterpolated($"[yellow]missing {results.Missing.Count} point(s), not done yet: {string.Join(", ", results.Missing.Select(p => $"{p.Index} ({Path.GetFileName(p.Folder)})"))}[/]");
        foreach (var figure in figures) console.Out.MarkupLineInterpolated($"wrote {figure}");
        return ExitCodes.Success;
    }
}
