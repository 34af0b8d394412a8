using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LatentLab.Cli.Ui;
using Spectre.Console;

namespace LatentLab.Cli.Commands;

/// <summary>compare's models several at once: each model's training, evaluation and figures in a child
/// <c>latent compare --models NAME --threads T --worker</c>, <c>--jobs</c> of them at a time. On a machine of few cores
/// this is faster than one model after another with every core in each: a model's batch-128 products and its elementwise
/// passes are small, and libtorch's threads spend much of a step waiting for each other.</summary>
/// <remarks>A worker writes its ordinary lines (each epoch's, what it drew) and two kinds of its own: <c>@progress DONE
/// TOTAL TEXT</c> about twice a second, and <c>@stages JSON</c> (its time by stage) at its end. The parent shows a bar per
/// worker, passes the ordinary lines on, and sums the stages. When a worker fails, the others are stopped (they keep their
/// checkpoints) and its error is the command's one line.</remarks>
static class CompareWorkers
{
    public const string ProgressTag = "@progress ";
    public const string StagesTag = "@stages ";
    static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(500);

    /// <param name="Failure">The failing worker's error, ready for <see cref="CliConsole.WriteError"/>; null if none failed.</param>
    public sealed record Outcome(bool Interrupted, string? Failure, int ExitCode);

    /// <summary>The arguments of one model's worker: this command line's options as they were given, less those that
    /// choose what runs where (<paramref name="notPassed"/>).</summary>
    public static List<string> WorkerArgs(ParseResult parse, string model, int threads, IReadOnlyCollection<string> notPassed)
    {
        var args = new List<string> { "compare" };
        foreach (var option in parse.CommandResult.Command.Options)
        {
            if (notPassed.Contains(option.Name) || parse.GetResult(option) is not { Implicit: false } given) continue;
            args.Add(option.Name);
            args.AddRange(given.Tokens.Select(t => t.Value));
        }
        args.AddRange(["--models", model, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--worker"]);
        return args;
    }

    /// <summary>Runs a worker per model, <paramref name="jobs"/> at once, with a bar each; their stages go to
    /// <paramref name="stages"/>.</summary>
    /// <param name="models">Each model's name as its folder has it (vae_2d-conv), and as the command line gave it
    /// (vae_2d, with --arch conv): the worker is given the latter, with the same options.</param>
    public static async Task<Outcome> RunAsync(ParseResult parse, CliConsole console, IReadOnlyList<(string Name, string Given)> models, int jobs, int threads,
        IReadOnlyCollection<string> notPassed, StageClock stages, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var gate = new object();
        (string Model, int Exit, List<string> Errors)? failed = null;
        await TrainingDisplay.CreateProgress(console.Out).StartAsync(async ctx =>
        {
            var overall = ctx.AddTask($"{models.Count} models, {jobs} at once", maxValue: models.Count);
            var fractions = new double[models.Count];
            void Move(int i, double fraction)
            {
                lock (gate)
                {
                    fractions[i] = Math.Clamp(fraction, 0, 1);
                    overall.Value = fractions.Sum();
                }
            }
            using var slots = new SemaphoreSlim(jobs);
            var running = models.Select(async (entry, i) =>
            {
                var (model, given) = entry;
                await slots.WaitAsync(CancellationToken.None);
                try
                {
                    if (stop.IsCancellationRequested) return;
                    var bar = ctx.AddTask(Markup.Escape(model), maxValue: 1);
                    var errors = new List<string>();
                    void Output(string line)
                    {
                        if (line.StartsWith(ProgressTag, StringComparison.Ordinal))
                        {
                            if (ParseProgress(line) is not { } p) return;
                            bar.Value = p.Fraction;
                            bar.Description = Markup.Escape(p.Text);
                            Move(i, p.Fraction);
                        }
                        else if (line.StartsWith(StagesTag, StringComparison.Ordinal))
                        {
                            var parts = JsonSerializer.Deserialize<List<StageSeconds>>(line[StagesTag.Length..]) ?? [];
                            lock (gate) foreach (var s in parts) stages.Add(s.Group, s.Part, s.Seconds);
                        }
                        else lock (gate) console.Out.MarkupLineInterpolated($"{line}");
                    }
                    int exit = await SelfProcess.RunAsync(WorkerArgs(parse, given, threads, notPassed), Output,
                        line => { lock (errors) errors.Add(line); }, stop.Token);
                    lock (gate)
                    {
                        if (exit == ExitCodes.Success)
                        {
                            bar.Value = 1;
                            Move(i, 1);
                            foreach (var line in errors) console.Error.WriteLine(line);
                        }
                        // A worker stopped because another failed or the user asked is not a failure of its own.
                        else if (!(stop.IsCancellationRequested && exit == ExitCodes.Interrupted) && failed is null)
                        {
                            failed = (model, exit, errors);
                            stop.Cancel();
                        }
                    }
                }
                finally { slots.Release(); }
            }).ToList();
            await Task.WhenAll(running);
        });

        if (failed is { } f)
        {
            // A bug in a worker keeps its stack trace, as it would have in one process.
            if (f.Exit == ExitCodes.InternalError) foreach (var line in f.Errors) console.Error.WriteLine(line);
            const string prefix = "latent: ";
            string? said = f.Errors.LastOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            string failure = said is not null ? $"{f.Model}: {said[prefix.Length..]}"
                : $"{f.Model}: its process ended with exit code {f.Exit}{(f.Errors.Count > 0 ? $": {f.Errors[^1]}" : "")}";
            return new Outcome(false, failure, f.Exit);
        }
        return new Outcome(cancel.IsCancellationRequested, null, cancel.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Success);
    }

    sealed record StageSeconds(string Group, string Part, double Seconds);

    /// <summary>The line a worker ends with: its time by stage.</summary>
    public static string StagesLine(StageClock stages) =>
        StagesTag + JsonSerializer.Serialize(stages.Stages().Select(s => new StageSeconds(s.Group, s.Part, s.Seconds)).ToList());

    public static string ProgressLine(double done, double total, string text) =>
        string.Create(CultureInfo.InvariantCulture, $"{ProgressTag}{done:R} {total:R} {text.ReplaceLineEndings(" ")}");

    static (double Fraction, string Text)? ParseProgress(string line)
    {
        var fields = line[ProgressTag.Length..].Split(' ', 3);
        if (fields.Length < 2
            || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double done)
            || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double total) || total <= 0) return null;
        return (done / total, fields.Length > 2 ? fields[2] : "");
    }

    /// <summary>In a worker: writes its progress as <see cref="ProgressLine"/> twice a second until disposed, and once
    /// more then.</summary>
    public sealed class Reporter : IDisposable
    {
        readonly IAnsiConsole _out;
        readonly ProgressTask _overall, _current;
        readonly Timer _timer;
        readonly object _gate = new();

        public Reporter(IAnsiConsole output, ProgressTask overall, ProgressTask current)
        {
            (_out, _overall, _current) = (output, overall, current);
            _timer = new Timer(_ => Write(), null, ReportInterval, ReportInterval);
        }

        void Write()
        {
            lock (_gate) _out.WriteLine(ProgressLine(_overall.Value, _overall.MaxValue, _current.Description));
        }

        public void Dispose()
        {
            _timer.Dispose();
            Write();
        }
    }

    /// <summary>A console that shows nothing: a worker's bars, which its parent draws from the progress lines.</summary>
    public static IAnsiConsole Silent() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(TextWriter.Null),
        Ansi = AnsiSupport.No,
        Interactive = InteractionSupport.No,
    });
}
