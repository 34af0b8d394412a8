namespace LatentLab.Training;

/// <summary>How the learning rate moves over a run: constant, or cosine annealing from <c>--lr</c> to 0 over all the
/// planned steps (Loshchilov &amp; Hutter 2017, without restarts).</summary>
public enum LrSchedule { Constant, Cosine }

/// <summary>How a model is trained. Immutable; validated once; saved in config.json.</summary>
/// <param name="Binarize">Train on dynamically binarized images (each pixel drawn as Bernoulli of its intensity,
/// afresh every time it is seen), the protocol of the likelihood literature.</param>
public sealed record TrainingConfig(
    int Epochs = 30,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    long Seed = 0,
    bool Binarize = false)
{
    public const int MaxEpochs = 100_000;

    /// <summary>The number format of the matrix products while training (<see cref="Runtime.Precision"/>): float32, or
    /// bfloat16 with float32 master weights, optimizer state and losses. Resolved from <c>--precision auto</c> before
    /// training, so config.json says what was used.</summary>
    public Runtime.Precision Precision { get; init; } = Runtime.Precision.Fp32;

    /// <summary>The learning rate's course (<c>--lr-schedule</c>).</summary>
    public LrSchedule LrSchedule { get; init; } = LrSchedule.Constant;

    /// <summary>Epochs over which a VAE's KL weight rises linearly from 0 to beta (<c>--kl-warmup</c>, Bowman et al.
    /// 2016; Sønderby et al. 2016); 0 for none. On the importance-weighted objective the weight multiplies
    /// log p(z_i) - log q(z_i|x) inside each log w_i.</summary>
    public int KlWarmupEpochs { get; init; }

    /// <summary>Training images held out as a validation split (<c>--validation</c>): drawn once by a generator of
    /// their own from the seed, never trained on; their loss after each epoch is history.csv's validation_loss, and
    /// model.safetensors holds the weights of the epoch where it was lowest. 0 for none (every image trains).</summary>
    public int ValidationImages { get; init; }

    /// <summary>Early stopping (<c>--patience</c>): training ends when the validation loss has not improved for this
    /// many epochs; 0 trains every planned epoch.</summary>
    public int Patience { get; init; }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public double LearningRateAt(long step, long totalSteps) => LrSchedule switch
    {
        LrSchedule.Cosine => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(totalSteps, 1))),
        _ => LearningRate,
    };

    /// <summary>The factor on the KL term at step <paramref name="step"/> (0-based) with <paramref name="stepsPerEpoch"/>.</summary>
    public double KlWeightAt(long step, long stepsPerEpoch) =>
        KlWarmupEpochs == 0 ? 1.0 : Math.Min(1.0, (step + 1) / (double)(KlWarmupEpochs * stepsPerEpoch));

    public TrainingConfig Validate()
    {
        if (Epochs is < 1 or > MaxEpochs) throw new LatentLabException($"--epochs must be between 1 and {MaxEpochs}, got {Epochs}");
        if (BatchSize is < 1 or > 1_000_000) throw new LatentLabException($"--batch-size must be between 1 and 1000000, got {BatchSize}");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0) throw new LatentLabException($"--lr must be a finite number > 0, got {LearningRate}");
        if (ValidationImages < 0) throw new LatentLabException($"--validation must be >= 0, got {ValidationImages}");
        if (Patience < 0) throw new LatentLabException($"--patience must be >= 0, got {Patience}");
        if (Patience > 0 && ValidationImages == 0) throw new LatentLabException("--patience needs a validation split: add --validation N");
        if (KlWarmupEpochs < 0 || KlWarmupEpochs > Epochs) throw new LatentLabException($"--kl-warmup must be between 0 and --epochs ({Epochs}), got {KlWarmupEpochs}");
        return this;
    }
}
