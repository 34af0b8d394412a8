using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Models;
using Spectre.Console;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent models</c>: lists the model presets of the registry.</summary>
public static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("models", "List the model presets");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("name", "kind", "latent", "architecture");
            foreach (var preset in ModelRegistry.Presets)
                table.AddRow(preset.Name, preset.Kind.ToString().ToUpperInvariant(), preset.LatentDim.ToString(), Markup.Escape(ModelRegistry.Describe(preset)));
            console.Out.Write(table);
            console.Out.WriteLine("--arch conv gives any preset a convolutional encoder and decoder (4x4 stride-2 convolutions, 32-64[-128] channels, "
                                  + $"a {ModelConfig.ConvHidden}-wide dense layer); it trains into NAME-conv, e.g. vae_32d-conv. --conv-channels and --hidden-dims change the widths. "
                                  + "Images of any size: --dataset FOLDER.");
            return ExitCodes.Success;
        });
        return command;
    }
}
