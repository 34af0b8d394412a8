// The LatentLab benchmark: how close training and evaluation come to the machine's matrix-product limit.
//
//   dotnet run -c Release --project bench -- [--quick] [--threads N] [--epochs N] [--models a,b]
//   dotnet run -c Release --project bench -- --image-folder     (reading 60,000 PNG files, then their cache)
//   dotnet run -c Release --project bench -- --gemm             (product rates, float32 and bfloat16)
//   dotnet run -c Release --project bench -- --plane RUN [--plane-whole]   (a 2-d VAE's exact log p(x) on the test split)
//   [--precision fp32,bf16] [--no-pytorch]   (default: both formats, then PyTorch's vae_32d loop in both)
//
// (a) the GEMM "roofline": the time of exactly the matrix products one training step of each preset performs,
//     measured with libtorch on this machine, scaled to an epoch; (b) training: median epoch time and images/s
//     per preset, as a ratio to (a); (c) evaluation time of the test split; (d) peak resident memory.
using System.Diagnostics;
using System.Globalization;
using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Runtime;
using LatentLab.Storage;
using LatentLab.Training;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var options = BenchOptions.Parse(args);
// As the command line computes (and as the PyTorch reference sets torch.set_flush_denormal): subnormals flushed to zero.
TorchRuntime.FlushDenormals = TorchRuntime.FlushDenormalsByEnvironment();
int threads = TorchRuntime.ConfigureThreads(options.Threads);

var dataRoot = DataDirectory.Resolve(Environment.GetEnvironmentVariable(DataDirectory.EnvironmentVariable)
                                     ?? Path.Combine(AppContext.BaseDirectory, "../../../../data"));
var files = await new DatasetFetcher().EnsureAsync(DatasetCatalog.Mnist, dataRoot, null, CancellationToken.None);
using var data = Dataset.Load(files);
if (args.Contains("--gemm"))
{
    GemmRates.Print();
    return;
}
if (Array.IndexOf(args, "--plane") is var plane and >= 0 && plane + 1 < args.Length)
{
    PlaneBench.Run(args[plane + 1], data, args.Contains("--plane-whole"));
    return;
}
if (args.Contains("--image-folder"))
{
    ImageFolderBench.Run(data);
    return;
}

if (args.Contains("--profile"))
{
    // Only where a step's time goes (autograd's and, where it applies, the hand-written step's).
    foreach (var precision in options.Precisions) StepProfile.Print(ModelRegistry.Get(options.Models[0]), data, options.BatchSize, precision);
    return;
}
Console.WriteLine($"LatentLab bench  {DateTime.UtcNow:yyyy-MM-dd}  {LatentLab.Runtime.Cpu.Current}  nproc={Environment.ProcessorCount}  threads={threads}  libtorch {__version__}");
Console.WriteLine($"MNIST {data.TrainCount:N0} training images, batch {options.BatchSize}, {options.Epochs} timed epoch(s) per preset{(options.Quick ? " (--quick)" : "")}");
Console.WriteLine();
Console.WriteLine($"{"preset",-9} {"prec",4} {"GEMM GFLOP/step",16} {"GEMM GFLOP/s",13} {"roofline s/epoch",17} {"train s/epoch",14} {"images/s",9} {"roofline/train",15} {"eval s",7}");
long trainingPeak = 0;
var vae32Seconds = new Dictionary<Precision, double>();
var vae32Losses = new Dictionary<Precision, IReadOnlyList<double>>();
// Which step each row trained with: the hand-written one where it applies, unless --autograd.
var stepPaths = new Dictionary<string, string>();
string iwaeWeights = Path.Combine(Path.GetTempPath(), $"latentlab-bench-{Environment.ProcessId}.safetensors");

foreach (var name in options.Models)
foreach (var precision in options.Precisions)
{
    // "vae_32d-conv": the preset with the conv encoder and decoder (no roofline: its products are convolutions).
    bool conv = name.EndsWith("-conv", StringComparison.Ordinal);
    var config = conv ? ModelRegistry.Get(name[..^"-conv".Length]).WithOverrides(arch: Architecture.Conv) : ModelRegistry.Get(name);
    int steps = (int)((data.TrainCount + options.BatchSize - 1) / options.BatchSize);
    var gemm = conv ? null : Roofline.Measure(config, options.BatchSize, repeats: options.Quick ? 150 : 400, precision.ScalarType());
    double rooflineEpoch = gemm is null ? double.NaN : gemm.SecondsPerStep * steps;

    var folder = Directory.CreateTempSubdirectory("latentlab-bench-");
    try
    {
        var epochSeconds = new List<double>();
        IReadOnlyList<double> trainLosses = [];
        double evalSeconds;
        Machine.ResetPeak();
        using (var trainer = new Trainer(config, new TrainingConfig(Epochs: options.Epochs, BatchSize: options.BatchSize) { Precision = precision }, data, new RunFolder(folder.FullName),
                   autograd: options.Autograd))
        {
            stepPaths[$"{name} {precision.Name()}"] = trainer.StepPath;
            var clock = new EpochClock();
            trainer.Train(resume: false, clock, CancellationToken.None);
            epochSeconds.AddRange(clock.TrainSeconds);
            trainLosses = clock.TrainLosses;
            trainingPeak = Math.Max(trainingPeak, Machine.PeakResidentBytes());
            evalSeconds = ReconstructionMetricsSeconds(trainer.Model, data.TestImages);
            // IWAE is timed after all training, so that the training peak memory below is training's alone.
            if (name == options.IwaeModel && precision == options.Precisions[0]) ModelFile.Save(trainer.Model, iwaeWeights);
        }
        double train = Median(epochSeconds);
        if (name == "vae_32d") (vae32Seconds[precision], vae32Losses[precision]) = (train, trainLosses);
        Console.WriteLine($"{name,-9} {precision.Name(),4} {gemm?.FlopPerStep / 1e9,16:F3} {gemm?.FlopPerStep / gemm?.SecondsPerStep / 1e9,13:F1} {rooflineEpoch,17:F2} {train,14:F2} {data.TrainCount / train,9:N0} {rooflineEpoch / train,14:P0} {evalSeconds,7:F2}");
    }
    finally
    {
        folder.Delete(recursive: true);
    }
}
Console.WriteLine();
Console.WriteLine("eval s: encode, decode, MSE and SSIM of the 10,000 test images (median of 5).");
Console.WriteLine($"steps: {string.Join(", ", stepPaths.Select(kv => $"{kv.Key} {kv.Value}"))}");
Console.WriteLine();
foreach (var precision in options.Precisions) StepProfile.Print(ModelRegistry.Get(options.IwaeModel), data, options.BatchSize, precision);
if (File.Exists(iwaeWeights))
{
    using var vae = (LatentLab.Models.Vae.VariationalAutoencoder)Autoencoder.Create(ModelRegistry.Get(options.IwaeModel));
    ModelFile.Load(vae, iwaeWeights);
    File.Delete(iwaeWeights);
    int count = options.Quick ? 1000 : (int)data.TestCount;
    double? fp32Bound = null;
    foreach (var precision in options.Precisions)
    {
        using var twin = precision == Precision.Bf16 ? (LatentLab.Models.Vae.VariationalAutoencoder)vae.Twin(ScalarType.BFloat16) : null;
        var w = IwaeSeconds(twin ?? vae, data.TestImages, count);
        double scale = (double)data.TestCount / w.Images;
        if (precision == Precision.Fp32) fp32Bound = w.Bound;
        // Decoder products of k samples per image: (z->256, 256->512, 512->784) x 2 FLOP per multiply-add.
        Console.WriteLine($"IWAE k=1000 on {options.IwaeModel}, {precision.Name()}: {w.Seconds:F1} s for {w.Images:N0} images" +
                          (scale > 1 ? $", {w.Seconds * scale:F0} s for all {data.TestCount:N0} (scaled)" : "") +
                          $"; bound {w.Bound:F3} nats" + (precision == Precision.Bf16 && fp32Bound is { } b ? $" ({w.Bound - b:+0.000;-0.000} against fp32)" : "") +
                          (precision == Precision.Fp32 ? $"; its decoder GEMMs alone at this run's rate: {w.GemmSeconds * scale:F0} s for all" : ""));
    }
}
if (vae32Seconds.Count > 0 && (!options.Quick || args.Contains("--pytorch")) && !args.Contains("--no-pytorch"))
{
    Console.WriteLine();
    Console.WriteLine($"PyTorch reference (bench/pytorch_reference.py, {options.Epochs + 1} epochs, median after the first, 1 torch thread: its best setting here) ...");
    var torchSeconds = PyTorchReference.Run(options.Epochs + 1, 1, Path.Combine(dataRoot, "mnist"));
    if (torchSeconds is not null)
    {
        Console.WriteLine($"{"vae_32d s/epoch",-16} {"LatentLab",10} {"PyTorch",10} {"LatentLab faster by",20}");
        foreach (var (precision, seconds) in vae32Seconds)
            if (torchSeconds.TryGetValue(precision.Name(), out var torch))
                Console.WriteLine($"{precision.Name(),-16} {seconds,10:F2} {torch.Seconds,10:F2} {torch.Seconds / seconds,19:F2}x");
        if (vae32Seconds.TryGetValue(Precision.Bf16, out var ours) && torchSeconds.TryGetValue("fp32", out var theirs32))
            Console.WriteLine($"LatentLab bf16 against PyTorch's best of fp32 and bf16: {Math.Min(theirs32.Seconds, torchSeconds.TryGetValue("bf16", out var t16) ? t16.Seconds : theirs32.Seconds) / ours:F2}x");
        // The same computation ran: each epoch's mean training loss, ours beside PyTorch's (other random draws, so they
        // agree to a fraction of a percent, not to the digit). PyTorch ran one epoch more (its first is not timed).
        Console.WriteLine($"{"train loss",-16} " + string.Join(" ", vae32Losses.Keys.Select(p => $"{"LatentLab " + p.Name(),15} {"PyTorch " + p.Name(),13}")));
        int rows = vae32Losses.Values.Max(l => l.Count);
        for (int e = 0; e < rows; e++)
            Console.WriteLine($"{"epoch " + (e + 1),-16} " + string.Join(" ", vae32Losses.Select(kv =>
                $"{(e < kv.Value.Count ? kv.Value[e].ToString("F2", CultureInfo.InvariantCulture) : ""),15} " +
                $"{(torchSeconds.TryGetValue(kv.Key.Name(), out var r) && e < r.EpochLosses.Count ? r.EpochLosses[e].ToString("F2", CultureInfo.InvariantCulture) : ""),13}")));
    }
}
Console.WriteLine($"peak resident memory (VmHWM) of the process while training, the loaded dataset included: {trainingPeak / 1e6:N0} MB " +
                  "(largest over the presets)");

static double ReconstructionMetricsSeconds(Autoencoder model, Tensor images)
{
    model.eval();
    var times = new List<double>();
    for (int r = 0; r < 5; r++)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var reconstruction = model.forward(images).sigmoid();
        ImageMetrics.Mse(images, reconstruction).mean().item<double>();
        ImageMetrics.Ssim(images, reconstruction).mean().item<double>();
        times.Add(clock.Elapsed.TotalSeconds);
    }
    return Median(times);
}

static (double Seconds, int Images, double GemmSeconds, double Bound) IwaeSeconds(LatentLab.Models.Vae.VariationalAutoencoder vae, Tensor images, int count)
{
    const int k = 1000;
    vae.eval();
    using var rng = new Generator(0);
    var clock = Stopwatch.StartNew();
    double sum = 0;
    for (int first = 0; first < count; first += 64)
    {
        using var scope = NewDisposeScope();
        sum += Iwae.LogLikelihood(vae, images.narrow(0, first, Math.Min(64, count - first)), k, rng).sum().item<double>();
    }
    double seconds = clock.Elapsed.TotalSeconds;
    // The floor: the decoder's three products for count * k rows, timed alone in chunks of 2,048 rows.
    int latent = vae.Config.LatentDim;
    using var z = rand(Iwae.RowsPerChunk, latent);
    var weights = new[] { rand(256, latent), rand(512, 256), rand(784, 512) };
    var gemm = Stopwatch.StartNew();
    int chunks = 20;
    for (int c = 0; c < chunks; c++)
    {
        using var scope = NewDisposeScope();
        var h = z;
        foreach (var w in weights) h = h.mm(w.t());
    }
    double perRow = gemm.Elapsed.TotalSeconds / (chunks * Iwae.RowsPerChunk);
    return (seconds, count, perRow * count * k, sum / count);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

/// <summary>Command-line options of the benchmark.</summary>
sealed record BenchOptions(bool Quick, int? Threads, int Epochs, int BatchSize, IReadOnlyList<string> Models, IReadOnlyList<Precision> Precisions,
    string IwaeModel = "vae_32d", bool Autograd = false)
{
    public static BenchOptions Parse(string[] args)
    {
        bool quick = args.Contains("--quick");
        string? Value(string flag) => Array.IndexOf(args, flag) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int? threads = Value("--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        int epochs = Value("--epochs") is { } e ? int.Parse(e, CultureInfo.InvariantCulture) : quick ? 1 : 3;
        var models = Value("--models")?.Split(',') ?? ModelRegistry.Names.ToArray();
        var precisions = (Value("--precision") ?? "fp32,bf16").Split(',').Select(p => LatentLab.Runtime.Precisions.Resolve(LatentLab.Runtime.Precisions.ParseChoice(p))).Distinct().ToList();
        return new BenchOptions(quick, threads, epochs, 128, models, precisions, Autograd: args.Contains("--autograd"));
    }
}

/// <summary>Collects the training time of each epoch (test evaluation excluded) from the trainer's reports.</summary>
sealed class EpochClock : IProgress<TrainingProgress>
{
    public List<double> TrainSeconds { get; } = [];
    /// <summary>Each epoch's mean training loss.</summary>
    public List<double> TrainLosses { get; } = [];
    public void Report(TrainingProgress p)
    {
        if (p.Completed is null && p.Message is null && p.Batch == p.Batches) TrainSeconds.Add(p.EpochElapsed.TotalSeconds);
        if (p.Completed is { } epoch) TrainLosses.Add(epoch.TrainLoss);
    }
}

/// <summary>The matrix products of one training step of a preset, timed alone: the step's hardware floor.</summary>
static class Roofline
{
    /// <param name="SecondsPerStep">The fastest repetition of the step's products: the roofline.</param>
    /// <param name="MedianSecondsPerStep">Their median repetition: the rate the products run at most of the time, which is
    /// what they meet inside a training step (bench/README.md, "the roofline's best repetition").</param>
    public sealed record Result(double FlopPerStep, double SecondsPerStep, double ForwardFlopPerStep, double MedianSecondsPerStep);

    public static Result Measure(ModelConfig config, int batch, int repeats, ScalarType type = ScalarType.Float32)
    {
        // Layer shapes (in, out) in the order the step runs them.
        var widths = new List<int> { config.InputDim };
        widths.AddRange(config.HiddenDims);
        widths.Add(config.Kind == ModelKind.Vae ? 2 * config.LatentDim : config.LatentDim);
        var layers = widths.Zip(widths.Skip(1)).ToList();
        var decoder = new List<int> { config.LatentDim };
        decoder.AddRange(config.HiddenDims.Reverse());
        decoder.Add(config.InputDim);
        layers.AddRange(decoder.Zip(decoder.Skip(1)));

        var products = new List<(Tensor A, Tensor B)>();
        double flop = 0, forwardFlop = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var (inputs, outputs) = layers[i];
            var x = rand(batch, inputs, dtype: type);
            var w = rand(outputs, inputs, dtype: type);
            var g = rand(batch, outputs, dtype: type);
            products.Add((x, w.t()));          // forward: x W^T
            products.Add((g.t(), x));          // weight gradient: g^T x
            flop += 4.0 * batch * inputs * outputs;
            forwardFlop += 2.0 * batch * inputs * outputs;
            if (i != 0)                        // input gradient (not needed for the images themselves)
            {
                products.Add((g, w));
                flop += 2.0 * batch * inputs * outputs;
            }
        }

        for (int warm = 0; warm < 5; warm++)
            foreach (var (a, b) in products) a.mm(b).Dispose();
        var times = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            foreach (var (a, b) in products) a.mm(b).Dispose();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        foreach (var (a, b) in products) { a.Dispose(); b.Dispose(); }
        // The fastest repetition: a roofline is the machine's best case, and on a shared machine noise only adds time.
        times.Sort();
        return new Result(flop, times[0], forwardFlop, times[times.Count / 2]);
    }
}

/// <summary>Where one epoch of training steps goes: each phase timed on its own over a whole epoch of batches.</summary>
static class StepProfile
{
    public static void Print(ModelConfig config, Dataset data, int batchSize, Precision precision)
    {
        manual_seed(0);
        using var master = Autoencoder.Create(config);
        using var twin = precision == Precision.Bf16 ? master.Twin(ScalarType.BFloat16) : null;
        var model = twin ?? master;
        using var adam = new FlatAdam(master.parameters(), 1e-3, bf16Mirror: twin?.parameters());
        using var rng = new Generator(0);
        using var permutation = randperm(data.TrainCount, generator: rng);
        int steps = (int)(data.TrainCount / batchSize);
        double batches = 0, forward = 0, backward = 0, optimizer = 0;
        var total = Stopwatch.StartNew();
        for (int b = 0; b < steps; b++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var x = data.TrainImages.index_select(0, permutation.narrow(0, (long)b * batchSize, batchSize));
            batches += clock.Elapsed.TotalSeconds; clock.Restart();
            var loss = model.Loss(x, rng).Total;
            loss.item<float>();
            forward += clock.Elapsed.TotalSeconds; clock.Restart();
            loss.backward();
            backward += clock.Elapsed.TotalSeconds; clock.Restart();
            adam.Step();
            optimizer += clock.Elapsed.TotalSeconds;
        }
        var gemm = Roofline.Measure(config, batchSize, repeats: 150, precision.ScalarType());
        double gemmEpoch = gemm.SecondsPerStep * steps;
        if (FusedMlpStep.Supports(model) is null) PrintFused(config, data, batchSize, steps, gemmEpoch, gemm.MedianSecondsPerStep * steps, precision);
        Console.WriteLine($"profile of {steps} {config.Name} {precision.Name()} steps (autograd) ({total.Elapsed.TotalSeconds:F2} s): batch indexing {batches:F2} s, " +
                          $"forward + loss {forward:F2} s, backward {backward:F2} s, Adam {optimizer:F2} s; " +
                          $"the step's matrix products alone: {gemmEpoch:F2} s (forward {gemmEpoch * gemm.ForwardFlopPerStep / gemm.FlopPerStep:F2} s, " +
                          $"backward {gemmEpoch * (1 - gemm.ForwardFlopPerStep / gemm.FlopPerStep):F2} s, in proportion to their FLOP)");
    }

    /// <summary>The same epoch of steps through the hand-written step (<see cref="FusedMlpStep"/>): forward, loss and
    /// backward are one call, timed together.</summary>
    static void PrintFused(ModelConfig config, Dataset data, int batchSize, int steps, double gemmEpoch, double medianGemmEpoch, Precision precision)
    {
        manual_seed(0);
        using var master = Autoencoder.Create(config);
        using var twin = precision == Precision.Bf16 ? master.Twin(ScalarType.BFloat16) : null;
        using var adam = new FlatAdam(master.parameters(), 1e-3, bf16Mirror: twin?.parameters());
        using var step = new FusedMlpStep(twin ?? master) { TimeProducts = true };
        using var rng = new Generator(0);
        using var permutation = randperm(data.TrainCount, generator: rng);
        double batches = 0, pass = 0, optimizer = 0;
        var total = Stopwatch.StartNew();
        for (int b = 0; b < steps; b++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var x = data.TrainImages.index_select(0, permutation.narrow(0, (long)b * batchSize, batchSize));
            batches += clock.Elapsed.TotalSeconds; clock.Restart();
            step.Step(x, rng, 1.0);
            pass += clock.Elapsed.TotalSeconds; clock.Restart();
            adam.Step();
            optimizer += clock.Elapsed.TotalSeconds;
        }
        // The products as the step met them (its caches after Adam's pass, its buffers, each call's overhead) beside the
        // roofline's best repetition: what is left of forward, loss and backward is the C# passes and the calls between.
        Console.WriteLine($"profile of {steps} {config.Name} {precision.Name()} steps (hand-written, {total.Elapsed.TotalSeconds:F2} s): batch indexing {batches:F2} s, " +
                          $"forward, loss and backward {pass:F2} s (matrix products {step.ProductSeconds:F2} s timed in the step, {gemmEpoch:F2} s at the roofline's rate, " +
                          $"{medianGemmEpoch:F2} s at its median repetition's; " +
                          $"the rest {pass - step.ProductSeconds:F2} s), Adam {optimizer:F2} s");
    }
}

/// <summary>Facts about this machine for the report.</summary>
static class Machine
{
    public static long PeakResidentBytes()
    {
        if (!File.Exists("/proc/self/status")) return Process.GetCurrentProcess().PeakWorkingSet64;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Sets the peak (VmHWM) back to the present resident size (Linux: "5" to /proc/self/clear_refs), so
    /// that the next reading is the peak of what runs in between.</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
