using LatentLab.Data;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models.Networks;

/// <summary>The paper's decoder: the code through Linear layers mirroring the encoder's, reshaped into images.</summary>
public sealed class MlpDecoder : Module<Tensor, Tensor>
{
    readonly LayerChain _layers;
    readonly ImageShape _image;

    public MlpDecoder(ModelConfig config) : base(nameof(MlpDecoder))
    {
        _image = config.Image;
        _layers = new LayerChain("layers", LayerChain.Mlp(config.DecoderLatentDim, [.. config.HiddenDims.Reverse(), config.InputDim], activation: config.Activation));
        foreach (var (name, child) in _layers.named_children()) register_module(name, child);
    }

    /// <summary>[B, latent] codes to [B, C, H, W] Bernoulli logits.</summary>
    public override Tensor forward(Tensor z)
    {
        using var flat = _layers.call(z);
        return flat.view(_image.TensorShape(-1));
    }
}
