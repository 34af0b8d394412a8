using static TorchSharp.torch;

namespace LatentLab.Models.Priors;

/// <summary>A learned mixture of K diagonal Gaussians, p(z) = sum_k pi_k N(z; m_k, diag(s_k^2)), trained with the
/// model (means from N(0, I), unit variances and equal weights at the start).</summary>
public sealed class MixturePrior : Prior
{
    readonly TorchSharp.Modules.Parameter means;
    readonly TorchSharp.Modules.Parameter log_variances;
    readonly TorchSharp.Modules.Parameter logits;

    public MixturePrior(int dim, int components) : base("prior")
    {
        if (components < 1) throw new LatentLabException($"--prior-components must be at least 1, got {components}");
        means = nn.Parameter(randn(components, dim));
        log_variances = nn.Parameter(zeros(components, dim));
        logits = nn.Parameter(zeros(components));
        RegisterComponents();
    }

    public int Components => (int)means.shape[0];
    public override string Description => $"a mixture of {Components} Gaussians";

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([("weights", logits.detach().to(ScalarType.Float32).softmax(0)), ("means", means.detach().to(ScalarType.Float32)),
          ("log_variances", log_variances.detach().to(ScalarType.Float32))],
         "pick k with probability weights[k]; z = means[k] + exp(log_variances[k] / 2) * eps, eps ~ N(0, I)");

    public override Tensor LogDensity(Tensor z)
    {
        using var scope = NewDisposeScope();
        return DiagonalMixtureLogDensity(z, means, log_variances, logits.to(ScalarType.Float32).log_softmax(0)).MoveToOuterDisposeScope();
    }

    public override Tensor Sample(long n, Generator rng) => DiagonalMixtureSample(n, means, log_variances, logits, rng);
}
