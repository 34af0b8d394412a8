using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models.Networks;

/// <summary>The mirror of <see cref="ConvEncoder"/>: fully connected layers from the code to a small feature map, then
/// 4x4 transposed convolutions of stride 2 (each doubles the sides), ReLU between them, to one logit per pixel and channel.</summary>
/// <remarks>Parameters: <c>dense.0.weight</c> [hidden, latent], <c>dense.2.weight</c> [flat, hidden], <c>deconv.0.weight</c>
/// [128, 64, 4, 4] (PyTorch's ConvTranspose2d layout: in, out, kH, kW), ..., the last with C output channels.</remarks>
public sealed class ConvDecoder : Module<Tensor, Tensor>
{
    readonly LayerChain dense;
    readonly LayerChain deconv;
    readonly long[] _featureShape;

    public ConvDecoder(ModelConfig config) : base(nameof(ConvDecoder))
    {
        int factor = 1 << config.ConvChannels.Count;
        _featureShape = [-1, config.ConvChannels[^1], config.Image.Height / factor, config.Image.Width / factor];
        dense = new LayerChain("dense", LayerChain.Mlp(config.DecoderLatentDim, [.. config.HiddenDims.Reverse(), ConvEncoder.FlatSize(config)], reluAfterLast: true));
        var layers = new List<Module<Tensor, Tensor>>();
        var widths = config.ConvChannels.Reverse().Skip(1).Append(config.Image.Channels).ToList();
        int channels = config.ConvChannels[^1];
        for (int i = 0; i < widths.Count; i++)
        {
            layers.Add(ConvTranspose2d(channels, widths[i], kernel_size: 4, stride: 2, padding: 1));
            if (i < widths.Count - 1) layers.Add(ReLU());
            channels = widths[i];
        }
        deconv = new LayerChain("deconv", layers);
        RegisterComponents();
    }

    /// <summary>[B, latent] codes to [B, C, H, W] Bernoulli logits.</summary>
    public override Tensor forward(Tensor z)
    {
        using var flat = dense.call(z);
        using var features = flat.view(_featureShape);
        return deconv.call(features);
    }
}
