using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models.Networks;

/// <summary>A convolutional encoder for small images: 4x4 convolutions of stride 2 (each halves the sides), ReLU after
/// each, then fully connected layers to the code, as in the beta-VAE papers (Higgins et al. 2017; Burgess et al. 2018).</summary>
/// <remarks>No normalisation layers: batch statistics would make a code depend on the other images of its batch, and
/// the models train well without them at these sizes. Parameters: <c>conv.0.weight</c> [32, C, 4, 4], <c>conv.2.weight</c>,
/// ..., <c>dense.0.weight</c> [hidden, flat], <c>dense.2.weight</c> [outputs, hidden].</remarks>
public sealed class ConvEncoder : Module<Tensor, Tensor>
{
    readonly LayerChain conv;
    readonly LayerChain dense;

    public ConvEncoder(ModelConfig config, int outputs) : base(nameof(ConvEncoder))
    {
        var layers = new List<Module<Tensor, Tensor>>();
        int channels = config.Image.Channels;
        foreach (var c in config.ConvChannels)
        {
            layers.Add(Conv2d(channels, c, kernel_size: 4, stride: 2, padding: 1));
            layers.Add(ReLU());
            channels = c;
        }
        conv = new LayerChain("conv", layers);
        dense = new LayerChain("dense", LayerChain.Mlp(FlatSize(config), [.. config.HiddenDims, outputs]));
        RegisterComponents();
    }

    /// <summary>Values after the last convolution: its channels times the image sides divided by 2 per layer.</summary>
    public static int FlatSize(ModelConfig config)
    {
        int factor = 1 << config.ConvChannels.Count;
        return config.ConvChannels[^1] * (config.Image.Height / factor) * (config.Image.Width / factor);
    }

    /// <summary>[B, C, H, W] images to [B, outputs].</summary>
    public override Tensor forward(Tensor x)
    {
        using var features = conv.call(x);
        using var flat = features.flatten(1);
        return dense.call(flat);
    }
}
