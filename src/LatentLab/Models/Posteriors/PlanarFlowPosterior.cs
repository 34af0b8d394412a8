using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>Planar flows (Rezende &amp; Mohamed 2015) with their parameters from the encoder: per image, the mean and
/// log-variance of the base Gaussian, then for each of the K steps u (d values), w (d) and b (1).</summary>
public sealed class PlanarFlowFamily(int latentDim, int steps) : PosteriorFamily("posterior")
{
    public override int EncoderOutputs => 2 * latentDim + steps * (2 * latentDim + 1);

    public override Posterior FromEncoderOutput(Tensor output)
    {
        int d = latentDim;
        long n = output.shape[0];
        var baseQ = new DiagonalGaussianPosterior(output.narrow(1, 0, d), output.narrow(1, d, d));
        var flows = output.narrow(1, 2 * d, steps * (2 * d + 1)).view(n, steps, 2 * d + 1);
        return new PlanarFlowPosterior(baseQ, flows.narrow(2, 0, d), flows.narrow(2, d, d), flows.select(2, 2 * d));
    }

    public override string ExtraOutputName => "flow";

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable() =>
        ([], $"encoder.onnx's output 'flow' holds, per image, {steps} blocks of {2 * latentDim + 1} values: u ({latentDim}), w ({latentDim}), b (1). " +
             "Draw z = mean + exp(log_variance / 2) * eps, eps ~ N(0, I); then for each block in order: " +
             "uh = u + (softplus(w.u) - 1 - w.u) w / |w|^2, z = z + uh tanh(w.z + b). " +
             "log q(z|x) = log N(z0; mean, exp(log_variance)) - sum over blocks of log |1 + (1 - tanh(w.z + b)^2) w.uh|, z before each block");
}

/// <summary>q(z|x): z0 ~ N(mu, diag(sigma^2)), then z_k = z_{k-1} + u_k tanh(w_k . z_{k-1} + b_k) for k = 1..K, and
/// log q(z_K|x) = log N(z0) - sum_k log |1 + u_k . psi_k|, psi_k = (1 - tanh^2(w_k . z_{k-1} + b_k)) w_k.</summary>
/// <remarks>Each step is invertible when w . u >= -1; u is replaced by u + (m(w . u) - w . u) w / |w|^2 with
/// m(a) = -1 + softplus(a) > -1 (the paper's appendix A). The inverse, needed only for <see cref="LogDensity"/> at codes
/// that were not drawn, solves a + c tanh(a) = w . y + b for a = w . z + b per step, a monotone scalar equation (c = w . u
/// > -1), by bisection in float64.</remarks>
/// <param name="u">[B, K, d]</param>
/// <param name="w">[B, K, d]</param>
/// <param name="b">[B, K]</param>
public sealed class PlanarFlowPosterior(DiagonalGaussianPosterior baseQ, Tensor u, Tensor w, Tensor b) : DrawnPosterior
{
    public DiagonalGaussianPosterior Base { get; } = baseQ;
    public int Steps => (int)w.shape[1];

    /// <summary>The constrained u of step k, [B, d].</summary>
    Tensor UHat(int k)
    {
        var wk = w.select(1, k);
        var uk = u.select(1, k);
        var wu = (wk * uk).sum([1], keepdim: true);
        var m = -1 + nn.functional.softplus(wu);
        return uk + (m - wu) * wk / (wk.square().sum([1], keepdim: true) + 1e-12);
    }

    /// <summary>z0 [..., B, d] through the K steps: the codes and the summed log |det| of the Jacobian, [..., B].</summary>
    public (Tensor Z, Tensor LogDet) Transform(Tensor z0)
    {
        var z = z0;
        Tensor? logDet = null;
        for (int k = 0; k < Steps; k++)
        {
            var wk = w.select(1, k);
            var uk = UHat(k);
            var h = ((z * wk).sum([-1]) + b.select(1, k)).tanh();                         // [..., B]
            z = z + uk * h.unsqueeze(-1);
            var wu = (wk * uk).sum([-1]);                                                  // [B]
            var step = (1 + (1 - h.square()) * wu).abs().log();
            logDet = logDet is null ? step : logDet + step;
        }
        return (z, logDet ?? zeros_like(z0.select(-1, 0)));
    }

    /// <summary>The base mean through the flow: the code used for pictures and metrics (a flow's mean has no closed form).</summary>
    public override Tensor Mean => Transform(Base.Mu).Z;

    public override (Tensor Z, Tensor LogQ) Sample(int k, Generator? rng)
    {
        var (z0, logQ0) = Base.Sample(k, rng);
        var (z, logDet) = Transform(z0);
        return (z, logQ0 - logDet);
    }

    /// <summary>log q(z|x) of codes z [..., B, d], by inverting the steps (bisection) and the change of variables.</summary>
    public override Tensor LogDensity(Tensor z)
    {
        using var scope = NewDisposeScope();
        var type = z.dtype;
        var y = z.to(ScalarType.Float64);
        Tensor logDet = zeros_like(y.select(-1, 0));
        for (int k = Steps - 1; k >= 0; k--)
        {
            var wk = w.select(1, k).to(ScalarType.Float64);
            var uk = UHat(k).to(ScalarType.Float64);
            var c = (wk * uk).sum([-1]);                                                   // [B], > -1
            var r = (y * wk).sum([-1]) + b.select(1, k).to(ScalarType.Float64);           // a + c tanh(a) = r
            var lo = r - c.abs() - 1e-9;
            var hi = r + c.abs() + 1e-9;
            for (int i = 0; i < 80; i++)
            {
                var mid = (lo + hi) / 2;
                var above = (mid + c * mid.tanh()).gt(r);
                hi = where(above, mid, hi);
                lo = where(above, lo, mid);
            }
            var a = (lo + hi) / 2;
            var h = a.tanh();
            y = y - uk * h.unsqueeze(-1);
            logDet = logDet + (1 + (1 - h.square()) * c).abs().log();
        }
        var logQ0 = Base.LogDensity(y).to(ScalarType.Float64);                            // float64: y is
        return (logQ0 - logDet).to(type).MoveToOuterDisposeScope();
    }
}
