using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Export;
using Spectre.Console;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent export --model NAME --format onnx</c>: the trained encoder and decoder as ONNX files.</summary>
public static class ExportCommand
{
    static readonly Option<string> ModelOption = new("--model") { Description = "Trained model (a run folder name under OUT/<dataset>/)", Required = true };
    static readonly Option<string> FormatOption = new("--format") { Description = "Export format: onnx", DefaultValueFactory = _ => "onnx" };
    static readonly Option<string> DatasetOption = CommonOptions.Dataset();
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> ToOption = new("--to") { Description = "Folder for encoder.onnx and decoder.onnx (default: the run folder's onnx/)" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("export", "Write a trained model's encoder and decoder as ONNX files (encoder.onnx, decoder.onnx)");
        foreach (var option in new Option[] { ModelOption, FormatOption, DatasetOption, OutOption, ToOption })
            command.Add(option);
        command.SetAction(parse =>
        {
            var format = parse.GetValue(FormatOption)!;
            if (format != "onnx") throw new LatentLabException($"--format must be onnx, got '{format}'");
            var located = TrainedRun.Locate(parse.GetValue(DatasetOption)!, parse.GetValue(OutOption)!, parse.GetValue(ModelOption)!);
            var target = PathChecks.WritableFolder(parse.GetValue(ToOption) ?? Path.Combine(located.Folder.Root, "onnx"), "--to");
            using var model = located.Folder.LoadModel();
            var files = OnnxExport.Write(model, target);
            // The code the decoder reads: a two-level VAE's z1, the whole code otherwise; a flow's extra outputs have widths of their own.
            int code = model.Config.DecoderLatentDim, coded = model.IsVariational ? 2 : 1;
            string extra = files.EncoderOutputs.Count > coded ? $" and {string.Join(", ", files.EncoderOutputs.Skip(coded))}" : "";
            console.Out.MarkupLineInterpolated($"wrote {files.Encoder} (input image [[batch, {model.Config.Image.Channels}, {model.Config.Image.Height}, {model.Config.Image.Width}]] in [[0, 1]]; outputs {string.Join(", ", files.EncoderOutputs.Take(coded))} [[batch, {code}]]{extra})");
            console.Out.MarkupLineInterpolated($"wrote {files.Decoder} (input code [[batch, {code}]]; output image in [[0, 1]]); ONNX opset {OnnxExport.Opset}");
            console.Out.MarkupLineInterpolated($"wrote {files.Prior} (what to sample codes from: {model.Prior!.Description})");
            return ExitCodes.Success;
        });
        return command;
    }
}
