using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.Training;
using LatentLab.Visualization;
using Spectre.Console;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent visualize --model NAME</c>: figures/ and animations/ of a trained model.</summary>
public static class VisualizeCommand
{
    static readonly Option<string> ModelOption = new("--model") { Description = "Trained model (a run folder name under OUT/<dataset>/)", Required = true };
    static readonly Option<string> DatasetOption = CommonOptions.Dataset();
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<int?> ThreadsOption = CommonOptions.Threads();
    static readonly Option<int> TsnePointsOption = new("--tsne-points") { Description = "Test codes in the t-SNE of a model with more than 2 latent dimensions (50-5000)", DefaultValueFactory = _ => 2000 };
    static readonly Option<int> FramesOption = new("--frames") { Description = "Frames of the sampling animation (10-600)", DefaultValueFactory = _ => 60 };

    public static Command Create(CliConsole console)
    {
        var command = new Command("visualize", "Draw a trained model's latent space: figures/*.png and animations/*.gif in its run folder");
        foreach (var option in new Option[] { ModelOption, DatasetOption, OutOption, DataDirOption, ThreadsOption, TsnePointsOption, FramesOption })
            command.Add(option);
        command.SetAction(async (parse, cancel) =>
        {
            var located = TrainedRun.Locate(parse.GetValue(DatasetOption)!, parse.GetValue(OutOption)!, parse.GetValue(ModelOption)!);
            var options = new VisualizeOptions(parse.GetValue(TsnePointsOption), Frames: parse.GetValue(FramesOption), Seed: located.Record.Training.Seed).Validate();
            using var run = await TrainedRun.OpenAsync(console, located, parse.GetValue(DataDirOption), parse.GetValue(ThreadsOption), cancel);
            Run(console, run.Model, run.Data, run.Folder, options, cancel);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Draws everything with a status display and lists the files (also used by compare).</summary>
    public static VisualizeResult Run(CliConsole console, Models.Autoencoder model, Dataset data, RunFolder folder, VisualizeOptions options,
        CancellationToken cancel = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = StatusDisplay.Run(console.Out, $"drawing {model.Config.Name}", progress => Visualizer.Run(model, data, folder, options, progress, cancel));
        foreach (var path in result.Written)
            console.Out.MarkupLineInterpolated($"wrote {Shown(path)}");
        foreach (var note in result.Skipped)
            console.Out.MarkupLineInterpolated($"[yellow]skipped[/] {note}");
        console.Out.MarkupLineInterpolated($"{result.Written.Count} files in {clock.Elapsed.TotalSeconds:0.0} s");
        return result;
    }

    /// <summary>A path relative to the working folder when it lies inside it, else absolute.</summary>
    static string Shown(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}
