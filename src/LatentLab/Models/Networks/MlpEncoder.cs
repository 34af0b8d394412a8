using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models.Networks;

/// <summary>The paper's encoder: the flattened image through Linear layers with ReLU (or tanh,
/// <see cref="ModelConfig.Activation"/>) between them.</summary>
/// <remarks>Parameters: <c>0.weight</c>, <c>0.bias</c>, <c>2.weight</c>, ... (the nonlinearities hold the odd positions), the names
/// of PyTorch's <c>nn.Sequential(nn.Flatten(), ...)</c> without the Flatten.</remarks>
public sealed class MlpEncoder : Module<Tensor, Tensor>
{
    readonly LayerChain _layers;

    public MlpEncoder(ModelConfig config, int outputs) : base(nameof(MlpEncoder))
    {
        _layers = new LayerChain("layers", LayerChain.Mlp(config.InputDim, [.. config.HiddenDims, outputs], activation: config.Activation));
        foreach (var (name, child) in _layers.named_children()) register_module(name, child);
    }

    /// <summary>[B, C, H, W] images to [B, outputs].</summary>
    public override Tensor forward(Tensor x)
    {
        using var flat = x.flatten(1);
        return _layers.call(flat);
    }
}
