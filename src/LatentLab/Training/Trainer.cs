using System.Diagnostics;
using LatentLab.Data;
using LatentLab.Models;
using LatentLab.Runtime;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Training;

/// <summary>Trains one model on one dataset with Adam, writing the run folder as it goes.</summary>
/// <remarks>Each epoch reshuffles (one permutation drawn from the run's generator), takes batches by index from
/// the dataset's single tensor, evaluates the test split, then atomically writes model.safetensors,
/// history.csv and checkpoint.safetensors. Cancellation stops after the current batch and checkpoints the
/// exact position, so a resumed run continues with the same batches and random numbers.</remarks>
public sealed class Trainer : IDisposable
{
    const int EvaluationBatch = 1000;

    readonly Dataset _data;
    readonly RunFolder _folder;
    readonly Generator _rng;
    readonly FlatAdam _adam;
    /// <summary>The optimiser of an adversary of the objective (FactorVAE's discriminator), or null.</summary>
    readonly FlatAdam? _adversaryAdam;
    readonly Tensor _testImages;
    // With bf16 precision, the model's bfloat16 twin: training steps run through it, the float32 Model holds the weights.
    readonly Autoencoder? _compute;
    // The hand-written step of an MLP VAE or AE (float32 or mixed), where it applies and autograd was not asked for.
    readonly FusedMlpStep? _fused;
    // With a validation split: the training images' indices that train, and the held-out images.
    readonly Tensor? _trainIndex;
    readonly Tensor? _validationImages;

    public Autoencoder Model { get; }

    /// <summary>How a step computes its gradients, for the log: the hand-written step or autograd.</summary>
    public string StepPath => _fused is not null ? "hand-written step" : "autograd";
    public TrainingConfig Config { get; }
    public List<EpochRecord> History { get; } = [];

    /// <summary>Where the per-epoch TensorBoard events go; null when <c>--no-tensorboard</c> turned them off.</summary>
    public TensorBoardLog? TensorBoard { get; private set; }
    readonly bool _tensorBoard;

    /// <param name="tensorBoard">Write TensorBoard event files (losses per epoch, reconstructions every
    /// <see cref="ImageEvery"/> epochs and at the last) under the run folder's tensorboard/.</param>
    /// <param name="autograd">Train through autograd even where the hand-written step (<see cref="FusedMlpStep"/>)
    /// applies: the reference path.</param>
    public Trainer(ModelConfig model, TrainingConfig config, Dataset data, RunFolder folder, bool tensorBoard = true, bool autograd = false)
    {
        _tensorBoard = tensorBoard;
        Config = config.Validate();
        if (model.Image != data.Shape)
            throw new LatentLabException($"{model.Name} is built for {model.Image} images, the data holds {data.Shape} (channels x height x width)");
        if (config.KlWarmupEpochs > 0 && model.Kind != ModelKind.Vae)
            throw new LatentLabException("--kl-warmup needs a VAE: an AE has no KL term to warm up");
        _data = data;
        _folder = folder;
        // The seed fixes the initial weights (global generator), then everything random in training.
        manual_seed(config.Seed);
        Model = Autoencoder.Create(model);
        _rng = new Generator((ulong)config.Seed);
        bool adversary = Model.AdversaryParameters().Any();
        if (adversary && config.Precision == Runtime.Precision.Bf16)
            throw new LatentLabException("--gamma trains in float32: its discriminator has no bfloat16 twin yet (--precision fp32)");
        if (config.Precision == Runtime.Precision.Bf16) _compute = Model.Twin(ScalarType.BFloat16);
        _adam = new FlatAdam(Model.ObjectiveParameters(), config.LearningRate, bf16Mirror: _compute?.ObjectiveParameters());
        // After the optimiser: the fused step writes into the gradient buffers it made.
        // In mixed precision it trains the bfloat16 twin, whose gradients the optimiser reads.
        if (!autograd && FusedMlpStep.Supports(_compute ?? Model) is null) _fused = new FusedMlpStep(_compute ?? Model);
        // Kim & Mnih's discriminator optimiser: Adam, learning rate 1e-4, betas 0.5 and 0.9.
        if (adversary) _adversaryAdam = new FlatAdam(Model.AdversaryParameters(), AdversaryLearningRate, beta1: 0.5, beta2: 0.9);
        // With --binarize the test split is binarized once, with a fixed seed, as in Burda et al. (2015).
        _testImages = config.Binarize ? Binarization.FixedTestSplit(data.TestImages, config.Seed) : data.TestImages.alias();
        if (config.ValidationImages > 0)
        {
            long n = config.ValidationImages, total = data.TrainCount;
            if (n >= total) throw new LatentLabException($"--validation {n:N0} leaves no image to train on (the training split has {total:N0})");
            // A generator of its own: the split does not move the draws of training itself.
            using var splitter = new Generator((ulong)config.Seed + 7);
            using var order = randperm(total, generator: splitter);
            _trainIndex = order.narrow(0, 0, total - n).clone();
            using var held = data.TrainImages.index_select(0, order.narrow(0, total - n, n));
            _validationImages = config.Binarize ? Binarization.FixedTestSplit(held, config.Seed) : held.clone();
        }
        // N of the β-TCVAE's minibatch-weighted estimate: the images that train, known once the split is made.
        Model.TrainingSetSize = TrainCount;
        if (_compute is not null) _compute.TrainingSetSize = TrainCount;
    }

    /// <summary>The images that train: the training split less the validation images.</summary>
    public long TrainCount => _trainIndex?.shape[0] ?? _data.TrainCount;

    public int BatchesPerEpoch => (int)((TrainCount + Config.BatchSize - 1) / Config.BatchSize);

    /// <summary>Trains up to <see cref="TrainingConfig.Epochs"/> epochs, from the checkpoint when <paramref name="resume"/>.</summary>
    public TrainingOutcome Train(bool resume, IProgress<TrainingProgress>? progress, CancellationToken cancel)
    {
        using var writer = RunLock.Acquire(_folder.Root);
        // A process killed while writing leaves its temporary file; nothing else can be writing now, so remove them.
        foreach (var stale in Directory.GetFiles(_folder.Root, ".*.tmp")) File.Delete(stale);
        var position = TrainingPosition.Start;
        Tensor? permutation = null;
        if (resume && File.Exists(_folder.CheckpointPath))
        {
            CheckSameModel();
            var restored = Checkpoint.Load(_folder.CheckpointPath, Model, _adam, _rng, _adversaryAdam);
            _adam.SyncMirror();
            (position, permutation) = (restored.Position, restored.Permutation);
            CheckPosition(position, permutation);
            History.AddRange(restored.History);
            progress?.Report(Note(position.CompletedEpochs, $"resuming after epoch {position.CompletedEpochs}" +
                (position.MidEpoch ? $", at batch {position.NextBatch + 1} of epoch {position.CompletedEpochs + 1}" : "")));
        }
        else if (resume)
        {
            progress?.Report(Note(0, $"no checkpoint in {_folder.Root}; starting from the beginning"));
        }

        IO.Json.WriteFile(_folder.ConfigPath, Record());
        if (LatentSnapshots.Applies(Model.Config))
        {
            if (position == TrainingPosition.Start) SaveSnapshot(0);
            else LatentSnapshots.Truncate(_folder.SnapshotsPath, position.CompletedEpochs);
        }

        for (int epoch = position.CompletedEpochs + 1; epoch <= Config.Epochs; epoch++)
        {
            if (StoppedEarly() is { } best)
            {
                progress?.Report(Note(History.Count, $"stopped early after epoch {History.Count}: the validation loss has not improved for {Config.Patience} epochs since epoch {best.Epoch} ({best.ValidationLoss:0.00}); model.safetensors holds that epoch's weights"));
                break;
            }
            permutation ??= randperm(TrainCount, generator: _rng);
            var outcome = RunEpoch(epoch, permutation, position, progress, cancel, out position);
            if (outcome == TrainingOutcome.Interrupted) return outcome;
            permutation.Dispose();
            permutation = null;
        }
        // With a validation split, what follows training (evaluation, figures) uses the best epoch's weights.
        if (_validationImages is not null && File.Exists(_folder.ModelPath))
        {
            ModelFile.Load(Model, _folder.ModelPath);
            _adam.SyncMirror();
        }
        return TrainingOutcome.Completed;
    }

    TrainingOutcome RunEpoch(int epoch, Tensor permutation, TrainingPosition start, IProgress<TrainingProgress>? progress,
        CancellationToken cancel, out TrainingPosition end)
    {
        Model.train();
        var clock = Stopwatch.StartNew();
        double lossSum = start.LossSum, previousSeconds = start.SecondsSoFar;
        long seen = start.ImagesSeen, seenThisCall = 0;
        int batches = BatchesPerEpoch;

        for (int batch = start.NextBatch; batch < batches; batch++)
        {
            if (cancel.IsCancellationRequested)
            {
                end = new TrainingPosition(epoch - 1, batch, lossSum, seen, previousSeconds + clock.Elapsed.TotalSeconds);
                Checkpoint.Save(_folder.CheckpointPath, Model, _adam, _rng, end, permutation, History, _adversaryAdam);
                return TrainingOutcome.Interrupted;
            }

            TorchRuntime.CollectBetweenSteps();
            using var scope = NewDisposeScope();
            long first = (long)batch * Config.BatchSize;
            long size = Math.Min(Config.BatchSize, TrainCount - first);
            var indices = permutation.narrow(0, first, size);
            if (_trainIndex is not null) indices = _trainIndex.index_select(0, indices);
            var x = _data.TrainImages.index_select(0, indices);
            if (Config.Binarize) x = bernoulli(x, generator: _rng);

            long step = (long)(epoch - 1) * batches + batch;
            _adam.LearningRate = Config.LearningRateAt(step, (long)Config.Epochs * batches);
            LossTerms? terms = null;
            double loss;
            if (_fused is not null)
            {
                // Every gradient is written (not accumulated) by the step: nothing to clear first.
                loss = _fused.Step(x, _rng, Model.Config.Beta * Config.KlWeightAt(step, batches));
                if (!double.IsFinite(loss)) throw new TrainingDivergedException(epoch, batch + 1, loss);
            }
            else
            {
                _adam.ZeroGrad();
                var computing = _compute ?? Model;
                terms = computing.Loss(x, _rng, Config.KlWeightAt(step, batches));
                // One scalar read per step: on a CPU, libtorch runs eagerly, so this costs microseconds, and it lets a
                // NaN stop training at the step where it appears instead of an epoch later.
                loss = terms.Total.item<float>();
                if (!double.IsFinite(loss)) throw new TrainingDivergedException(epoch, batch + 1, loss);
                terms.Backward();
            }
            _adam.Step();
            if (_adversaryAdam is not null && terms?.Codes is { } codes)
            {
                // The adversary's step on the same batch's codes, after the model's (its gradients from the model's
                // backward are cleared first: the model's loss does not train it).
                _adversaryAdam.ZeroGrad();
                Model.AdversaryLoss(codes, _rng).backward();
                _adversaryAdam.Step();
            }

            lossSum += loss * size;
            seen += size;
            seenThisCall += size;
            progress?.Report(new TrainingProgress(epoch, Config.Epochs, batch + 1, batches, lossSum / seen,
                seenThisCall / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), TimeSpan.FromSeconds(previousSeconds) + clock.Elapsed));
        }

        var (testLoss, testRecon, testKl, testParts) = EvaluateOn(_testImages);
        double? validation = _validationImages is null ? null : EvaluateOn(_validationImages).Loss;
        var record = new EpochRecord(epoch, lossSum / Math.Max(seen, 1), testLoss, testRecon, testKl, previousSeconds + clock.Elapsed.TotalSeconds, validation)
            { KlParts = testParts };
        History.Add(record);
        end = new TrainingPosition(epoch, 0, 0, 0, 0);
        // Weights first, checkpoint last: a crash in between leaves a checkpoint one epoch behind, never ahead.
        // With a validation split, model.safetensors keeps the best epoch's weights; the checkpoint, the latest.
        if (_validationImages is null || Best()!.Epoch == epoch) ModelFile.Save(Model, _folder.ModelPath);
        Storage.History.Write(_folder.HistoryPath, History);
        if (LatentSnapshots.Applies(Model.Config)) SaveSnapshot(epoch);
        Checkpoint.Save(_folder.CheckpointPath, Model, _adam, _rng, end, null, History, _adversaryAdam);
        Manifest.Write(_folder.Root, Path.GetFileName(_folder.ModelPath), Path.GetFileName(_folder.CheckpointPath));
        LogEpoch(record);
        progress?.Report(new TrainingProgress(epoch, Config.Epochs, batches, batches, record.TrainLoss, 0, TimeSpan.FromSeconds(record.Seconds), record));
        return TrainingOutcome.Completed;
    }

    public const int ImageEvery = 5;
    public const double AdversaryLearningRate = 1e-4;

    /// <summary>The epoch's losses, and every few epochs the first eight test images above their reconstructions, in
    /// TensorBoard's event file; written after the checkpoint, so a resumed run does not log an epoch twice.</summary>
    void LogEpoch(EpochRecord record)
    {
        if (!_tensorBoard) return;
        TensorBoard ??= new TensorBoardLog(_folder.Root);
        TensorBoard.Scalar("loss/train", record.TrainLoss, record.Epoch);
        TensorBoard.Scalar("loss/test", record.TestLoss, record.Epoch);
        TensorBoard.Scalar("loss/test_reconstruction", record.TestRecon, record.Epoch);
        TensorBoard.Scalar("loss/test_kl", record.TestKl, record.Epoch);
        if (record.KlParts is { } parts)
        {
            TensorBoard.Scalar("kl/test_mutual_information", parts.MutualInformation, record.Epoch);
            TensorBoard.Scalar("kl/test_total_correlation", parts.TotalCorrelation, record.Epoch);
            TensorBoard.Scalar("kl/test_dimension_kl", parts.DimensionKl, record.Epoch);
        }
        TensorBoard.Scalar("time/epoch_seconds", record.Seconds, record.Epoch);
        if (record.Epoch % ImageEvery != 0 && record.Epoch != Config.Epochs && record.Epoch != 1) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Model.eval();
        var originals = _testImages.narrow(0, 0, Math.Min(8, _testImages.shape[0]));
        var both = cat([originals, Model.forward(originals).sigmoid()]);
        Model.train();
        var (png, width, height) = TensorBoardLog.Tiles(both.data<float>().ToArray(), _data.Shape, (int)originals.shape[0]);
        TensorBoard.Image("reconstructions", png, width, height, _data.Shape.Channels, record.Epoch);
    }

    void SaveSnapshot(int epoch) => LatentSnapshots.Append(_folder.SnapshotsPath, Model, _testImages, _data.TestLabels, epoch);

    /// <summary>Mean loss terms per test image. VAEs draw one posterior sample per image from a generator with a
    /// fixed seed, so the figure depends on the weights alone.</summary>
    public (double Loss, double Recon, double Kl) EvaluateTest()
    {
        var (loss, recon, kl, _) = EvaluateOn(_testImages);
        return (loss, recon, kl);
    }

    /// <summary>The epoch of lowest validation loss so far (the first of equals); null without a validation split.</summary>
    EpochRecord? Best() => _validationImages is null || History.Count == 0 ? null
        : History.Aggregate((a, b) => b.ValidationLoss < a.ValidationLoss ? b : a);

    /// <summary>The best epoch when early stopping applies and the last <see cref="TrainingConfig.Patience"/> epochs
    /// did not improve on it; else null. A function of the history, so a resumed run stops where the first would have.</summary>
    EpochRecord? StoppedEarly() =>
        Config.Patience > 0 && Best() is { } best && History.Count - best.Epoch >= Config.Patience ? best : null;

    /// <summary>Mean loss terms per image of <paramref name="images"/>, as <see cref="EvaluateTest"/>.</summary>
    (double Loss, double Recon, double Kl, KlParts? Parts) EvaluateOn(Tensor images)
    {
        Model.eval();
        using var noGrad = no_grad();
        using var sampler = new Generator((ulong)Config.Seed + 1);
        double loss = 0, recon = 0, kl = 0, mi = 0, tc = 0, dimensionKl = 0;
        bool decomposed = false;
        long n = images.shape[0];
        for (long first = 0; first < n; first += EvaluationBatch)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(EvaluationBatch, n - first);
            var terms = Model.Loss(images.narrow(0, first, size), sampler);
            loss += terms.Total.item<float>() * size;
            recon += terms.Reconstruction.item<float>() * size;
            kl += terms.Kl.item<float>() * size;
            if (terms.Decomposition is { } d)
            {
                decomposed = true;
                mi += d.MutualInformation.item<float>() * size;
                tc += d.TotalCorrelation.item<float>() * size;
                dimensionKl += d.DimensionKl.item<float>() * size;
            }
        }
        Model.train();
        return (loss / n, recon / n, kl / n, decomposed ? new KlParts(mi / n, tc / n, dimensionKl / n) : null);
    }

    /// <summary>What config.json records about this run.</summary>
    public RunRecord Record() => new(
        Model.Config, Config,
        DatasetRecord.Of(_data),
        get_num_threads(), _adam.ParameterCount, Runtime.TorchRuntime.Versions(), DateTime.UtcNow);

    /// <summary>A checkpoint's position must fit this data: a permutation of exactly its images, a batch inside the epoch.</summary>
    void CheckPosition(TrainingPosition position, Tensor? permutation)
    {
        var path = _folder.CheckpointPath;
        if (position.NextBatch >= BatchesPerEpoch)
            throw new CorruptFileException(path, $"next batch {position.NextBatch} is past the {BatchesPerEpoch} batches of an epoch (different --batch-size or data?)");
        if (permutation is null) return;
        long n = TrainCount;
        using var sorted = permutation.sort().Values;
        using var expected = arange(n, dtype: ScalarType.Int64);
        if (permutation.shape[0] != n || !sorted.eq(expected).all().item<bool>())
            throw new CorruptFileException(path, $"the saved epoch order is not a permutation of the {n:N0} training images (different --train-size or data?)");
    }

    void CheckSameModel()
    {
        if (!File.Exists(_folder.ConfigPath)) return;
        var previous = IO.Json.ReadFile<RunRecord>(_folder.ConfigPath);
        if (previous.Training.Precision != Config.Precision)
            throw new LatentLabException($"{_folder.Root} was trained with --precision {previous.Training.Precision.Name()}; resume it with the same precision, or train without --resume");
        if (previous.Training.ValidationImages != Config.ValidationImages)
            throw new LatentLabException($"{_folder.Root} was trained with --validation {previous.Training.ValidationImages}; resume it with the same split, or train without --resume");
        if (!previous.Model.Equals(Model.Config))
            throw new LatentLabException($"{_folder.Root} holds a {previous.Model.Name} with a different configuration " +
                                         $"(latent {previous.Model.LatentDim}, beta {previous.Model.Beta}, {previous.Model.Recon}, {previous.Model.Arch}, {previous.Model.Image} images); resume it with the same options or train without --resume");
    }

    static TrainingProgress Note(int epoch, string message) => new(epoch, 0, 0, 0, 0, 0, TimeSpan.Zero, null, message);

    public void Dispose()
    {
        TensorBoard?.Dispose();
        _fused?.Dispose();
        _adam.Dispose();
        _adversaryAdam?.Dispose();
        _compute?.Dispose();
        _rng.Dispose();
        _testImages.Dispose();
        _trainIndex?.Dispose();
        _validationImages?.Dispose();
        Model.Dispose();
    }
}
