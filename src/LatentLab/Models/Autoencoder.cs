using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models;

/// <summary>An autoencoder: it has an encoder and a decoder, chosen by the config's architecture
/// (<see cref="Networks.Network"/>); images are [B, C, H, W] tensors in [0, 1].</summary>
/// <remarks>Subclasses decide what the encoder's output means (a code, or a Gaussian's parameters) and the loss.
/// Parameter names (encoder.0.weight, ..., decoder.4.bias for the MLP) are the names in model.safetensors.</remarks>
public abstract class Autoencoder : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor> encoder;
    readonly Module<Tensor, Tensor> decoder;

    public ModelConfig Config { get; }

    /// <summary>A factor on the KL term's weight (beta) while training: below 1 during a KL warm-up
    /// (<see cref="Training.TrainingConfig.KlWarmupEpochs"/>), 1 otherwise and in every evaluation.</summary>
    public double KlWeight { get; set; } = 1.0;

    protected Autoencoder(ModelConfig config, int encoderOutputs) : base(config.Name)
    {
        Config = config.Validate();
        encoder = Networks.Network.Encoder(config, encoderOutputs);
        decoder = Networks.Network.Decoder(config);
        RegisterComponents();
    }

    /// <summary>Builds the model a config describes, with freshly initialised weights.</summary>
    public static Autoencoder Create(ModelConfig config) => config.Kind switch
    {
        ModelKind.Vae => new Vae.VariationalAutoencoder(config),
        ModelKind.Ae => new Ae.DeterministicAutoencoder(config),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    /// <summary>The code used for pictures and metrics: the code itself (AE) or the posterior mean (VAE).</summary>
    public abstract Tensor EncodeMean(Tensor x);

    /// <summary>The loss on a batch; <paramref name="rng"/> draws any noise the model needs.</summary>
    public abstract LossTerms Loss(Tensor x, Generator? rng);

    /// <summary>The type of the encoder's and decoder's weights and activations: float32, or bfloat16 for a
    /// mixed-precision twin (<see cref="Twin"/>). Inputs are cast to it on the way in, outputs back to float32 on the
    /// way out, so losses, reductions and metrics always see float32: the one place the precision is applied.</summary>
    public ScalarType ComputeType { get; private set; } = ScalarType.Float32;

    /// <summary>Decoder logits [B, C, H, W] (apply sigmoid for pixel intensities), float32.</summary>
    public Tensor Decode(Tensor z) => Computed(decoder, z);

    /// <summary>A model of the same config whose layers run in <paramref name="type"/>, holding this model's weights
    /// rounded to it. It draws nothing from the global random generator (its fresh initial weights are overwritten),
    /// so making one does not change what a seeded run does next.</summary>
    public Autoencoder Twin(ScalarType type)
    {
        using var state = random.get_rng_state();
        var twin = Create(Config);
        random.set_rng_state(state);
        twin.to(type);
        twin.ComputeType = type;
        twin.CopyWeightsFrom(this);
        return twin;
    }

    /// <summary>Copies (and rounds) <paramref name="source"/>'s weights into this model's, parameter by parameter.</summary>
    public void CopyWeightsFrom(Autoencoder source)
    {
        using var noGrad = no_grad();
        foreach (var (mine, theirs) in parameters().Zip(source.parameters())) mine.copy_(theirs);
    }

    Tensor Computed(Module<Tensor, Tensor> network, Tensor input)
    {
        if (ComputeType == ScalarType.Float32 && input.dtype == ScalarType.Float32) return network.forward(input);
        using var cast = input.to(ComputeType);
        using var output = network.forward(cast);
        return output.to(ScalarType.Float32);
    }

    /// <summary>Reconstruction logits at the mean code.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Decode(EncodeMean(x)).MoveToOuterDisposeScope();
    }

    /// <summary>The encoder's output, float32.</summary>
    protected Tensor EncoderOutput(Tensor x) => Computed(encoder, x);
}
