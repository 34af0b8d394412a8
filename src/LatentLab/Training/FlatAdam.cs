using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Training;

/// <summary>Adam (Kingma &amp; Ba 2015) over all parameters at once, with the same arithmetic as torch.optim.Adam.</summary>
/// <remarks>Why: TorchSharp's optim.Adam runs ~10 small tensor operations per parameter tensor per step, and on
/// a CPU those dispatches cost as much as the model's matrix products. Here every parameter is re-pointed (set_)
/// to a slice of one flat buffer and every gradient is a slice of one flat gradient buffer, so a step is a
/// handful of operations on one tensor. Autograd accumulates into an existing .grad in place, so backward
/// writes straight into the flat gradient buffer; <see cref="ZeroGrad"/> clears it with one fill.</remarks>
public sealed class FlatAdam : IDisposable
{
    readonly Tensor _parameters;
    readonly Tensor _gradients;
    readonly Tensor _m;
    readonly Tensor _v;
    readonly Tensor _denominator;
    readonly double _beta1, _beta2, _eps;

    public double LearningRate { get; }
    /// <summary>Number of steps taken (t in the paper).</summary>
    public long Steps { get; private set; }
    public long ParameterCount => _parameters.numel();

    public FlatAdam(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        LearningRate = learningRate;
        (_beta1, _beta2, _eps) = (beta1, beta2, eps);
        var list = parameters.ToList();
        long total = list.Sum(p => p.numel());
        var type = list[0].dtype;

        _parameters = zeros(total, dtype: type);
        _gradients = zeros(total, dtype: type);
        _m = zeros(total, dtype: type);
        _v = zeros(total, dtype: type);
        _denominator = zeros(total, dtype: type);

        using var noGrad = no_grad();
        long offset = 0;
        foreach (var p in list)
        {
            long n = p.numel();
            using var slice = _parameters.narrow(0, offset, n).view(p.shape);
            slice.copy_(p);
            p.set_(slice);
            p.grad = _gradients.narrow(0, offset, n).view(p.shape);
            offset += n;
        }
    }

    public void ZeroGrad() => _gradients.zero_();

    /// <summary>One Adam step from the gradients now in the flat buffer.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        Steps++;
        double correction1 = 1 - Math.Pow(_beta1, Steps);
        double correction2 = 1 - Math.Pow(_beta2, Steps);
        _m.mul_(_beta1).add_(_gradients, alpha: 1 - _beta1);
        _v.mul_(_beta2).addcmul_(_gradients, _gradients, value: 1 - _beta2);
        // As torch.optim.Adam: denom = sqrt(v) / sqrt(1 - beta2^t) + eps; p -= lr / (1 - beta1^t) * m / denom.
        _denominator.copy_(_v).sqrt_().div_(Math.Sqrt(correction2)).add_(_eps);
        _parameters.addcdiv_(_m, _denominator, value: -LearningRate / correction1);
    }

    /// <summary>The optimizer's state, for checkpoints: first and second moments, and the step count.</summary>
    public (Tensor M, Tensor V, long Steps) State => (_m, _v, Steps);

    public void LoadState(Tensor m, Tensor v, long steps)
    {
        if (m.numel() != _m.numel() || v.numel() != _v.numel())
            throw new LatentLabException($"optimizer state has {m.numel():N0} values, the model has {_m.numel():N0} parameters");
        using var noGrad = no_grad();
        _m.copy_(m.view(-1));
        _v.copy_(v.view(-1));
        Steps = steps;
    }

    public void Dispose()
    {
        _parameters.Dispose();
        _gradients.Dispose();
        _m.Dispose();
        _v.Dispose();
        _denominator.Dispose();
    }
}
