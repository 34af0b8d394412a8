using LatentLab.Models.Networks;
using static TorchSharp.torch;

namespace LatentLab.Models.Vae;

/// <summary>FactorVAE's discriminator (Kim &amp; Mnih 2018): tells codes z ~ q(z) (class 0) from codes whose every
/// dimension was shuffled across the batch, draws of prod_j q(z_j) (class 1). At its optimum its two logits differ by
/// log q(z) / prod_j q(z_j), so their mean difference over codes estimates the total correlation (the density-ratio
/// trick). The paper's 6 layers of 1000 units (ReLU here for its leaky ReLU); <c>discriminator.*</c> in model.safetensors.</summary>
public sealed class TotalCorrelationDiscriminator : nn.Module<Tensor, Tensor>
{
    public const int Width = 1000, Layers = 6;
    readonly LayerChain net;

    /// <param name="width">Units of each hidden layer; <paramref name="layers"/> linear layers in all.</param>
    public TotalCorrelationDiscriminator(int latentDim, int width = Width, int layers = Layers) : base("discriminator")
    {
        net = new LayerChain("net", LayerChain.Mlp(latentDim, [.. Enumerable.Repeat(width, layers - 1), 2]));
        RegisterComponents();
    }

    /// <summary>The two logits of codes [B, d]: [B, 2].</summary>
    public override Tensor forward(Tensor z) => net.call(z);

    /// <summary>The total-correlation estimate of codes [B, d]: the mean of logit 0 - logit 1, nats.</summary>
    public Tensor TotalCorrelation(Tensor z)
    {
        var logits = forward(z);
        return (logits.select(1, 0) - logits.select(1, 1)).mean();
    }

    /// <summary>Each dimension of codes [B, d] shuffled across the batch on its own: a draw of prod_j q(z_j) per row
    /// (Kim &amp; Mnih's algorithm 1).</summary>
    public static Tensor PermuteDimensions(Tensor z, Generator? rng)
    {
        var order = rand(z.shape, dtype: ScalarType.Float32, generator: rng).argsort(0);
        return z.gather(0, order);
    }

    /// <summary>The discriminator's cross-entropy on codes (class 0) and their dimension-shuffled copy (class 1), each
    /// half weighted 1/2.</summary>
    public Tensor Loss(Tensor codes, Generator? rng)
    {
        var shuffled = PermuteDimensions(codes, rng);
        long n = codes.shape[0];
        var real = zeros(n, dtype: ScalarType.Int64);
        var shuffledClass = ones(n, dtype: ScalarType.Int64);
        return 0.5 * (nn.functional.cross_entropy(forward(codes), real) + nn.functional.cross_entropy(forward(shuffled), shuffledClass));
    }
}
