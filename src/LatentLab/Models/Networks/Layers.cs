using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models.Networks;

/// <summary>A chain of layers registered under their positions ("0", "1", ...), as PyTorch's nn.Sequential names
/// them, so that parameter names read <c>encoder.0.weight</c> inside a module that also reshapes its input.</summary>
public sealed class LayerChain : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor>[] _layers;

    public LayerChain(string name, IReadOnlyList<Module<Tensor, Tensor>> layers) : base(name)
    {
        _layers = layers.ToArray();
        for (int i = 0; i < _layers.Length; i++) register_module($"{i}", _layers[i]);
    }

    /// <remarks>A ReLU or a tanh is applied in place (its input is always the previous layer's fresh output, which
    /// neither a linear nor a convolution layer needs for its backward pass, and each one's own backward reads its
    /// output): one pass over the activations and one tensor fewer per layer, the same values.</remarks>
    public override Tensor forward(Tensor x)
    {
        var result = _layers[0].call(x);
        for (int i = 1; i < _layers.Length; i++)
        {
            if (_layers[i] is TorchSharp.Modules.ReLU)
            {
                result.relu_();
                continue;
            }
            if (_layers[i] is TorchSharp.Modules.Tanh)
            {
                result.tanh_();
                continue;
            }
            var next = _layers[i].call(result);
            result.Dispose();
            result = next;
        }
        return result;
    }

    /// <summary>The chain's output with every weight and bias detached: the gradient reaches <paramref name="x"/> and
    /// nothing else. Linear and ReLU layers only (the MLP conditionals of a two-level VAE).</summary>
    public Tensor ForwardAtFixedWeights(Tensor x)
    {
        var result = x;
        foreach (var layer in _layers)
            result = layer switch
            {
                TorchSharp.Modules.Linear linear => nn.functional.linear(result, linear.weight!.detach(), linear.bias?.detach()),
                TorchSharp.Modules.ReLU => nn.functional.relu(result),
                TorchSharp.Modules.Tanh => result.tanh(),
                _ => throw new InvalidOperationException($"{layer.GetType().Name}: only linear and ReLU layers run at fixed weights"),
            };
        return result;
    }

    /// <summary>The positions of the weighted layers of the chain whose parameters are named <c>{prefix}{i}.weight</c>,
    /// in order (ReLUs, which have none, leave gaps): how exporters walk a network by its parameter names.</summary>
    public static IReadOnlyList<int> Positions(IEnumerable<string> parameterNames, string prefix) => parameterNames
        .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
        .Select(n => n[prefix.Length..].Split('.'))
        .Where(parts => parts.Length == 2 && parts[1] == "weight" && int.TryParse(parts[0], out _))
        .Select(parts => int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();

    /// <summary>Linear layers of the given widths with ReLU (or <paramref name="activation"/>) between them; with
    /// <paramref name="reluAfterLast"/> also after the last one.</summary>
    public static List<Module<Tensor, Tensor>> Mlp(int inputs, IEnumerable<int> widths, bool reluAfterLast = false, Activation activation = Activation.Relu)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        var list = widths.ToList();
        int width = inputs;
        for (int i = 0; i < list.Count; i++)
        {
            layers.Add(Linear(width, list[i]));
            if (i < list.Count - 1 || reluAfterLast) layers.Add(activation == Activation.Tanh ? Tanh() : ReLU());
            width = list[i];
        }
        return layers;
    }
}
