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

    /// <summary>Decoder logits [B, C, H, W] (apply sigmoid for pixel intensities).</summary>
    public Tensor Decode(Tensor z) => decoder.forward(z);

    /// <summary>Reconstruction logits at the mean code.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Decode(EncodeMean(x)).MoveToOuterDisposeScope();
    }

    protected Tensor EncoderOutput(Tensor x) => encoder.forward(x);
}
