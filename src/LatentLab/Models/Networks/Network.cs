using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models.Networks;

/// <summary>Builds the encoder and decoder a config's <see cref="Architecture"/> names: the one place that maps the
/// enum to modules, so a new architecture is a new pair of files and one line here.</summary>
public static class Network
{
    /// <summary>An encoder from [B, C, H, W] images to [B, <paramref name="outputs"/>].</summary>
    public static Module<Tensor, Tensor> Encoder(ModelConfig config, int outputs) => config.Arch switch
    {
        Architecture.Mlp => new MlpEncoder(config, outputs),
        Architecture.Conv => new ConvEncoder(config, outputs),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    /// <summary>A decoder from [B, latent] codes to [B, C, H, W] logits.</summary>
    public static Module<Tensor, Tensor> Decoder(ModelConfig config) => config.Arch switch
    {
        Architecture.Mlp => new MlpDecoder(config),
        Architecture.Conv => new ConvDecoder(config),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };
}
