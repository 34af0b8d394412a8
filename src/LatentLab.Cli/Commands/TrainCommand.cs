using System.CommandLine;
using LatentLab.Cli.Ui;
using LatentLab.Data;
using LatentLab.Models;
using LatentLab.Runtime;
using LatentLab.Training;
using Spectre.Console;
using LatentLab.Storage;

namespace LatentLab.Cli.Commands;

/// <summary><c>latent train --model NAME</c>: trains one model and writes OUT/&lt;dataset&gt;/&lt;model&gt;/.</summary>
public static class TrainCommand
{
    static readonly Option<string> ModelOption = new("--model")
    {
        Description = $"Model preset: {string.Join(", ", ModelRegistry.Names)}",
        Required = true,
    };
    static readonly Option<string> DatasetOption = CommonOptions.Dataset();
    static readonly Option<int> EpochsOption = new("--epochs") { Description = "Epochs to train (in all, counting resumed ones)", DefaultValueFactory = _ => 30 };
    static readonly Option<int> BatchSizeOption = new("--batch-size") { Description = "Images per optimizer step", DefaultValueFactory = _ => 128 };
    static readonly Option<double> LearningRateOption = new("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 1e-3 };
    static readonly Option<long> SeedOption = new("--seed") { Description = "Seed for initial weights, shuffling and sampling", DefaultValueFactory = _ => 0 };
    static readonly Option<int?> ThreadsOption = CommonOptions.Threads();
    static readonly Option<string> OutOption = CommonOptions.Out();
    static readonly Option<string?> DataDirOption = CommonOptions.DataDir();
    static readonly Option<string?> LatentDimOption = CommonOptions.LatentDim();
    static readonly Option<int?> LatentLayersOption = CommonOptions.LatentLayers();
    static readonly Option<double?> GammaOption = new("--gamma")
    {
        Description = "FactorVAE (Kim & Mnih 2018): the weight of the total correlation a discriminator estimates, added to the ELBO; float32 only; the run folder gets -gammaG",
    };
    static readonly Option<double?> TcWeightOption = new("--tc-weight")
    {
        Description = "β-TCVAE (Chen et al. 2018): the weight of the total correlation in the KL term, the mutual information and the dimension-wise KL keeping 1; the run folder gets -tcW",
    };
    static readonly Option<double?> BetaOption = new("--beta") { Description = "Weight of the KL term (beta-VAE); default 1" };
    static readonly Option<string?> ReconOption = new("--recon") { Description = "Reconstruction loss: bce (Bernoulli, nats) or mse" };
    static readonly Option<string?> ArchOption = CommonOptions.Arch();
    static readonly Option<string?> ActivationOption = CommonOptions.Activation();
    static readonly Option<string?> PriorOption = CommonOptions.Prior();
    static readonly Option<int?> PriorComponentsOption = CommonOptions.PriorComponents();
    static readonly Option<string?> PosteriorOption = CommonOptions.Posterior();
    static readonly Option<int?> FlowStepsOption = CommonOptions.FlowSteps();
    static readonly Option<string?> SamplerOption = CommonOptions.Sampler();
    static readonly Option<int?> SamplerComponentsOption = CommonOptions.SamplerComponents();
    static readonly Option<string?> ConvChannelsOption = CommonOptions.ConvChannels();
    static readonly Option<string?> HiddenDimsOption = CommonOptions.HiddenDims();
    static readonly Option<string> ObjectiveOption = new("--objective")
    {
        Description = "A VAE's training objective: elbo; iwae (the importance-weighted bound of Burda et al. 2015, with --k samples; the run folder is NAME-iwaeK); or iwae-dreg (the same bound, its posterior trained with the doubly reparameterized gradient of Tucker et al. 2019; NAME-iwaeK-dreg)",
        DefaultValueFactory = _ => "elbo",
    };
    static readonly Option<int?> KOption = new("--k") { Description = "Samples of the iwae objective (default 5)" };
    static readonly Option<bool> NoTensorBoardOption = CommonOptions.NoTensorBoard();
    static readonly Option<bool> AutogradOption = CommonOptions.Autograd();
    static readonly Option<string> PrecisionOption = CommonOptions.Precision();
    static readonly Option<string> LrScheduleOption = CommonOptions.LrSchedule();
    static readonly Option<int> KlWarmupOption = CommonOptions.KlWarmup();
    static readonly Option<int> ValidationOption = CommonOptions.Validation();
    static readonly Option<int> PatienceOption = CommonOptions.Patience();
    static readonly Option<bool> ResumeOption = new("--resume") { Description = "Continue from the run folder's checkpoint" };
    static readonly Option<bool> BinarizeOption = new("--binarize") { Description = "Train on dynamically binarized images (likelihood protocol)" };
    static readonly Option<int?> TrainSizeOption = new("--train-size") { Description = "Use only the first N training images (quick experiments)" };
    static readonly Option<int?> TestSizeOption = new("--test-size") { Description = "Use only the first N test images (quick experiments)" };
    static readonly Option<int> IwaeKOption = new("--iwae-k")
    {
        Description = "Importance samples for the IWAE bound in the evaluation after training (0 skips it; 'latent evaluate' defaults to 1000)",
        DefaultValueFactory = _ => 100,
    };

    public static Command Create(CliConsole console)
    {
        var command = new Command("train", "Train one model, evaluating the test split after every epoch");
        Option[] options = [ ModelOption, DatasetOption, EpochsOption, BatchSizeOption, LearningRateOption, SeedOption,
                     ThreadsOption, OutOption, DataDirOption, LatentDimOption, LatentLayersOption, BetaOption, TcWeightOption, GammaOption, ReconOption, ArchOption, ActivationOption, PriorOption, PriorComponentsOption, PosteriorOption, FlowStepsOption, SamplerOption, SamplerComponentsOption, ConvChannelsOption, HiddenDimsOption, ObjectiveOption, KOption, ResumeOption, BinarizeOption, NoTensorBoardOption, AutogradOption, PrecisionOption, LrScheduleOption, KlWarmupOption, ValidationOption, PatienceOption,
                     TrainSizeOption, TestSizeOption, IwaeKOption, .. DatasetChoice.FolderFlags()];
        foreach (var option in options)
            command.Add(option);
        command.SetAction((parse, cancel) => RunAsync(parse, console, cancel));
        return command;
    }

    static async Task<int> RunAsync(ParseResult parse, CliConsole console, CancellationToken cancel)
    {
        // Everything a user can get wrong is checked before any data is touched.
        var named = ModelRegistry.Get(parse.GetValue(ModelOption)!);
        var (latentDim, topLatentDim) = CommonOptions.ParseLatent(parse.GetValue(LatentDimOption), parse.GetValue(LatentLayersOption), named);
        var preset = named.WithOverrides(
            latentDim, parse.GetValue(BetaOption), ParseRecon(parse.GetValue(ReconOption)), CommonOptions.ParseArch(parse.GetValue(ArchOption)),
            CommonOptions.IwaeSamples(parse.GetValue(ObjectiveOption)!, parse.GetValue(KOption), "--k"),
            CommonOptions.ParseCounts(parse.GetValue(ConvChannelsOption), "--conv-channels"), CommonOptions.ParseCounts(parse.GetValue(HiddenDimsOption), "--hidden-dims"),
            CommonOptions.ParsePrior(parse.GetValue(PriorOption)), parse.GetValue(PriorComponentsOption),
            CommonOptions.ParseSampler(parse.GetValue(SamplerOption)), parse.GetValue(SamplerComponentsOption),
            CommonOptions.ParsePosterior(parse.GetValue(PosteriorOption)), parse.GetValue(FlowStepsOption), topLatentDim, parse.GetValue(TcWeightOption), parse.GetValue(GammaOption),
            CommonOptions.Dreg(parse.GetValue(ObjectiveOption)!), CommonOptions.ParseActivation(parse.GetValue(ActivationOption)));
        var training = new TrainingConfig(parse.GetValue(EpochsOption), parse.GetValue(BatchSizeOption),
            parse.GetValue(LearningRateOption), parse.GetValue(SeedOption), parse.GetValue(BinarizeOption))
        {
            LrSchedule = CommonOptions.ParseLrSchedule(parse.GetValue(LrScheduleOption)!),
            KlWarmupEpochs = parse.GetValue(KlWarmupOption),
            ValidationImages = parse.GetValue(ValidationOption),
            Patience = parse.GetValue(PatienceOption),
        }.Validate();
        var choice = DatasetChoice.From(parse, DatasetOption);
        var precisionChoice = Runtime.Precisions.ParseChoice(parse.GetValue(PrecisionOption)!);
        string outRoot = PathChecks.WritableFolder(parse.GetValue(OutOption)!, "--out");
        var evaluation = new Evaluation.EvaluationOptions(parse.GetValue(IwaeKOption), training.Seed, training.Binarize,
            CommonOptions.FeatureNets(parse.GetValue(DataDirOption))).Validate();
        var trainSize = Positive(parse.GetValue(TrainSizeOption), "--train-size");
        var testSize = Positive(parse.GetValue(TestSizeOption), "--test-size");
        int threads = TorchRuntime.ConfigureThreads(parse.GetValue(ThreadsOption));

        using var full = await choice.LoadAsync(console, parse.GetValue(DataDirOption), cancel);
        var model = preset.ForImages(full.Shape);
        using var data = trainSize is null && testSize is null ? null : full.Slice(trainSize ?? full.TrainCount, testSize ?? full.TestCount);
        var dataset = data ?? full;

        var folder = RunFolder.For(outRoot, dataset.Name, model.Name);
        // Resolved after the thread count, so that auto measures the products as training will run them.
        var (precision, why) = RunPrecision.Choose(precisionChoice, model, folder, parse.GetValue(ResumeOption));
        CommonOptions.Announce(console.Out, precision, why);
        training = training with { Precision = precision };
        evaluation = evaluation with { Precision = precision };
        using var trainer = new Trainer(model, training, dataset, folder, tensorBoard: !parse.GetValue(NoTensorBoardOption), autograd: parse.GetValue(AutogradOption));
        console.Out.MarkupLineInterpolated(
            $"training {model.Name} ({ModelRegistry.Describe(model)}, {trainer.Record().Parameters:N0} parameters) on {dataset.TrainCount:N0} {dataset.Name} images, {threads} {(threads == 1 ? "thread" : "threads")}, {precision.Name()}, {trainer.StepPath}");

        var outcome = TrainingOutcome.Completed;
        await TrainingDisplay.CreateProgress(console.Out).StartAsync(async ctx =>
        {
            var task = ctx.AddTask(model.Name, maxValue: (double)training.Epochs * trainer.BatchesPerEpoch);
            var display = new TrainingDisplay(console.Out, task, trainer.BatchesPerEpoch, model.Name);
            // On this thread, the one that loaded the data (TorchRuntime.Run says why); the display refreshes from its own.
            outcome = await TorchRuntime.Run(() => trainer.Train(parse.GetValue(ResumeOption), display, cancel));
            if (outcome == TrainingOutcome.Completed) task.Value = task.MaxValue;
        });

        if (outcome == TrainingOutcome.Interrupted)
        {
            console.Error.WriteLine($"latent: interrupted; state saved in {folder.CheckpointPath}. Continue with the same command and --resume.");
            return ExitCodes.Interrupted;
        }
        var metrics = EvaluateCommand.Run(console, trainer.Model, dataset, folder, evaluation);
        if (trainer.TensorBoard is { } log)
        {
            int epoch = trainer.History.Count;
            log.Scalar("test/mse", metrics.TestMse, epoch);
            log.Scalar("test/ssim", metrics.TestSsim, epoch);
            log.Scalar("test/psnr_db", metrics.TestPsnr, epoch);
            log.Scalar("test/bce_nats", metrics.TestBce, epoch);
            if (metrics.TestElbo is { } elbo) log.Scalar("test/elbo_nats", elbo, epoch);
            if (metrics.TestLogPxIwae is { } logPx) log.Scalar("test/log_px_iwae_nats", logPx, epoch);
            if (metrics.KnnAccuracy is { } knn) log.Scalar("test/knn_accuracy", knn, epoch);
            if (metrics.LinearProbeAccuracy is { } probe) log.Scalar("test/linear_probe_accuracy", probe, epoch);
        }
        console.Out.MarkupLineInterpolated($"wrote {folder.Root}{Path.DirectorySeparatorChar} (model.safetensors, config.json, history.csv, checkpoint.safetensors, metrics.json)");
        return ExitCodes.Success;
    }

    static ReconstructionLoss? ParseRecon(string? value) => value switch
    {
        null => null,
        "bce" => ReconstructionLoss.Bce,
        "mse" => ReconstructionLoss.Mse,
        _ => throw new LatentLabException($"--recon must be bce or mse, got '{value}'"),
    };

    static int? Positive(int? value, string option) =>
        value is null or > 0 ? value : throw new LatentLabException($"{option} must be a positive number, got {value}");

}
