using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.IO;
using LatentLab.Training;
using Spectre.Console;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent evaluate --model NAME</c>: measures a trained model on the test split and writes metrics.json.</summary>
public static class EvaluateCommand
{
    static readonly Option<string> ModelOption = new("--model") { Description = "Trained model (a run folder name under OUT/<dataset>/)", Required = true };
    static readonly Option<string> DatasetOption = CommonOptions.Dataset();
    static readonly Option<int> IwaeKOption = new("--iwae-k") { Description = "Importance samples for the IWAE bound on log p(x) (0 skips it)", DefaultValueFactory = _ => 1000 };
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<int?> ThreadsOption = CommonOptions.Threads();
    static readonly Option<string?> PrecisionOption = new("--precision")
    {
        Description = "Number format of the products: fp32, bf16 or auto; by default the run's own (its config.json), so that evaluate " +
                      "gives again the numbers training's evaluation wrote",
    };
    static readonly Option<bool> BinarizeOption = new("--binarize") { Description = "Evaluate on the test split binarized once with a fixed seed" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("evaluate", "Measure a trained model on the test split and write metrics.json");
        foreach (var option in new Option[] { ModelOption, DatasetOption, IwaeKOption, OutOption, DataDirOption, ThreadsOption, BinarizeOption, PrecisionOption })
            command.Add(option);
        command.SetAction(async (parse, cancel) =>
        {
            var asked = parse.GetValue(PrecisionOption) is { } text ? Runtime.Precisions.ParseChoice(text) : (Runtime.PrecisionChoice?)null;
            var located = TrainedRun.Locate(parse.GetValue(DatasetOption)!, parse.GetValue(OutOption)!, parse.GetValue(ModelOption)!);
            var options = new EvaluationOptions(parse.GetValue(IwaeKOption), located.Record.Training.Seed,
                parse.GetValue(BinarizeOption) || located.Record.Training.Binarize, CommonOptions.FeatureNets(parse.GetValue(DataDirOption))).Validate();
            using var run = await TrainedRun.OpenAsync(console, located, parse.GetValue(DataDirOption), parse.GetValue(ThreadsOption), cancel);
            var (precision, why) = asked is { } choice ? Runtime.Precisions.Choose(choice, located.Record.Model.Arch == Models.Architecture.Conv)
                : (located.Record.Training.Precision, "the run's own, from its config.json");
            CommonOptions.Announce(console.Out, precision, why);
            Run(console, run.Model, run.Data, run.Folder, options with { Precision = precision });
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Evaluates with a status display, writes metrics.json and prints the table (also used by train).</summary>
    public static Metrics Run(CliConsole console, Models.Autoencoder model, Dataset data, RunFolder folder, EvaluationOptions options)
    {
        var metrics = StatusDisplay.Run(console.Out, $"evaluating {model.Config.Name}", progress => Evaluator.Evaluate(model, data, options, progress));
        folder.SaveEvaluation(metrics, model, data);
        console.Out.Write(Table(metrics));
        console.Out.MarkupLineInterpolated($"wrote {folder.MetricsPath}");
        return metrics;
    }

    static Table Table(Metrics m)
    {
        string F(double? v, string format) => v is { } d ? d.ToString(format, CultureInfo.InvariantCulture) : "-";
        var table = new Table().Title($"{m.Model} on {m.Dataset} test ({m.TestImages:N0} images{(m.Binarized ? ", binarized" : "")})")
            .AddColumns("metric", "value", "unit");
        table.AddRow("test_mse", F(m.TestMse, "F5"), "per pixel");
        table.AddRow("test_ssim", F(m.TestSsim, "F4"), "");
        table.AddRow("test_psnr", F(m.TestPsnr, "F2"), "dB");
        table.AddRow("test_bce", F(m.TestBce, "F2"), "nats/image");
        if (m.TestElbo is not null)
        {
            table.AddRow("test_elbo", F(m.TestElbo, "F2"), "nats/image");
            table.AddRow("test_kl", F(m.TestKl, "F2"), "nats/image");
            if (m.TestLogPxIwae is not null) table.AddRow($"test_log_px_iwae (k={m.IwaeK})", F(m.TestLogPxIwae, "F2"), "nats/image");
            if (m.TestLogPxExact is not null) table.AddRow("test_log_px_exact", F(m.TestLogPxExact, "F2"), $"nats/image, by integration over the plane (error < {F(m.TestLogPxExactError, "F3")})");
            table.AddRow("active_units", $"{m.ActiveUnits} of {m.LatentMean.Length}", "");
        }
        table.AddRow("knn_accuracy (k=5)", F(m.KnnAccuracy, "P2"), "");
        table.AddRow("linear_probe_accuracy", F(m.LinearProbeAccuracy, "P2"), "");
        if (m.SampleFrechet is not null)
        {
            table.AddRow("sample_frechet", F(m.SampleFrechet, "F2"), $"classifier features (its test accuracy {F(m.FrechetNetAccuracy, "P2")})");
            foreach (var (sampler, distance) in m.SampleFrechetBySampler ?? new Dictionary<string, double>())
                table.AddRow($"  with the {sampler} sampler", F(distance, "F2"), "classifier features");
            table.AddRow("recon_frechet", F(m.ReconFrechet, "F2"), "classifier features");
            table.AddRow("frechet_train_test", F(m.FrechetTrainTest, "F2"), "training images against test images: the floor");
        }
        if (m.Disentanglement is { } dis)
        {
            string on = $"{dis.Images:N0} test images, factors {string.Join(", ", dis.Factors)}";
            table.AddRow("mig", F(dis.Mig, "F3"), $"mutual information gap (Chen et al. 2018); {on}");
            table.AddRow("sap", F(dis.Sap, "F3"), "separated attribute predictability (Kumar et al. 2018)");
            table.AddRow("dci_disentanglement", F(dis.DciDisentanglement, "F3"), "Eastwood & Williams 2018");
            table.AddRow("dci_completeness", F(dis.DciCompleteness, "F3"), "");
            table.AddRow("dci_informativeness", F(dis.DciInformativeness, "P2"), "test accuracy of the factors from the codes");
            table.AddRow("beta_vae_score", F(dis.BetaVaeScore, "P2"), "Higgins et al. 2017");
            table.AddRow("factor_vae_score", F(dis.FactorVaeScore, "P2"), "Kim & Mnih 2018");
        }
        table.AddRow("eval_seconds", F(m.EvalSeconds, "F1"), "s");
        return table;
    }
}
