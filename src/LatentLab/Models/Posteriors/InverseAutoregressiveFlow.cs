using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Models.Posteriors;

/// <summary>Inverse autoregressive flows (Kingma et al. 2016): the encoder gives the base Gaussian's mean and
/// log-variance and a context vector h; K steps, each a MADE network of z and h, move the draw. The steps' weights are
/// the model's own (<c>posterior.steps.*</c> in model.safetensors).</summary>
public sealed class InverseAutoregressiveFlowFamily : PosteriorFamily
{
    readonly int latentDim;
    readonly ModuleList<MadeStep> steps;

    /// <summary>The context's width, also each MADE's hidden width: 4 per latent dimension, at least 64.</summary>
    public int Hidden { get; }

    public InverseAutoregressiveFlowFamily(int latentDim, int count) : base("posterior")
    {
        this.latentDim = latentDim;
        Hidden = Math.Max(64, 4 * latentDim);
        steps = new ModuleList<MadeStep>([.. Enumerable.Range(0, count).Select(_ => new MadeStep(latentDim, Hidden))]);
        RegisterComponents();
    }

    public override int EncoderOutputs => 2 * latentDim + Hidden;

    public override Posterior FromEncoderOutput(Tensor output)
    {
        int d = latentDim;
        var baseQ = new DiagonalGaussianPosterior(output.narrow(1, 0, d), output.narrow(1, d, d));
        return new InverseAutoregressiveFlowPosterior(baseQ, output.narrow(1, 2 * d, Hidden), this);
    }

    public override string ExtraOutputName => "context";

    public override (IReadOnlyList<(string Name, Tensor Tensor)> Tensors, string HowToSample) Portable()
    {
        var tensors = new List<(string, Tensor)>();
        for (int k = 0; k < steps.Count; k++)
            foreach (var (name, tensor) in steps[k].MaskedWeights()) tensors.Add(($"step{k}.{name}", tensor));
        return (tensors, $"encoder.onnx's output 'context' is c ({Hidden} values per image). Draw z = mean + exp(log_variance / 2) * eps, " +
            $"eps ~ N(0, I); then for k = 0..{steps.Count - 1}: reverse the order of z's dimensions if k > 0; " +
            "h = elu(stepK.input.weight z + stepK.input.bias + stepK.context.weight c); m = stepK.shift.weight h + stepK.shift.bias; " +
            "s = stepK.scale.weight h + stepK.scale.bias; z = sigmoid(s) z + (1 - sigmoid(s)) m (the weights are stored with their masks applied). " +
            "log q(z|x) = log N(z0; mean, exp(log_variance)) - sum over steps and dimensions of log sigmoid(s)");
    }

    /// <summary>z0 [..., B, d] through the steps with context h [B, H]: the codes and the summed log-determinant, [..., B].
    /// The order of the dimensions is reversed before every step after the first (a permutation: determinant +-1).</summary>
    public (Tensor Z, Tensor LogDet) Transform(Tensor z0, Tensor h)
    {
        var z = z0;
        Tensor logDet = zeros_like(z0.select(-1, 0));
        for (int k = 0; k < steps.Count; k++)
        {
            if (k > 0) z = z.flip(-1);
            var (m, s) = steps[k].Shift(z, h);
            var sigma = s.sigmoid();
            z = sigma * z + (1 - sigma) * m;
            logDet = logDet + nn.functional.logsigmoid(s).sum([-1]);
        }
        return (z, logDet);
    }

    /// <summary>The inverse of <see cref="Transform"/>: z0 and the same log-determinant, for codes z [..., B, d]. Each step
    /// is undone by d passes of z_i = (y_i - (1 - sigma_i) m_i) / sigma_i, each pass fixing one more dimension (m_i and
    /// sigma_i depend only on z_1..z_{i-1}).</summary>
    public (Tensor Z0, Tensor LogDet) Inverse(Tensor z, Tensor h)
    {
        var y = z;
        Tensor logDet = zeros_like(z.select(-1, 0));
        for (int k = steps.Count - 1; k >= 0; k--)
        {
            var x = y;
            for (int pass = 0; pass < latentDim; pass++)
            {
                var (m, s) = steps[k].Shift(x, h);
                var sigma = s.sigmoid();
                x = (y - (1 - sigma) * m) / sigma;
            }
            logDet = logDet + nn.functional.logsigmoid(steps[k].Shift(x, h).S).sum([-1]);
            y = k > 0 ? x.flip(-1) : x;
        }
        return (y, logDet);
    }

    /// <summary>One MADE (Germain et al. 2015) step: a masked hidden layer of z plus the context, ELU, and two masked
    /// outputs m and s, so output i sees z_1..z_{i-1} only (the masks' degrees: inputs 1..d, hidden units 1..d-1 in turn).
    /// s starts near +2 (its bias), so sigma = sigmoid(s) starts near 0.88 and the flow near the identity's neighbourhood,
    /// as the paper advises.</summary>
    public sealed class MadeStep : nn.Module
    {
        readonly Linear input, context, shift, scale;
        // The masks: constants rebuilt from the degrees, not parameters or saved buffers (an array, which
        // RegisterComponents leaves alone).
        readonly Tensor[] masks;

        public MadeStep(int d, int hidden) : base("made")
        {
            input = nn.Linear(d, hidden);
            context = nn.Linear(hidden, hidden, hasBias: false);
            shift = nn.Linear(hidden, d);
            scale = nn.Linear(hidden, d);
            using (no_grad())
            {
                scale.bias!.fill_(2.0);
                shift.weight!.mul_(0.1);
                scale.weight!.mul_(0.1);
            }
            var inputDegree = arange(1, d + 1);                                            // 1..d
            var hiddenDegree = d > 1 ? arange(hidden).remainder(d - 1) + 1 : zeros(hidden, ScalarType.Int64);
            var inputMask = hiddenDegree.unsqueeze(1).ge(inputDegree.unsqueeze(0)).to(ScalarType.Float32);   // [H, d]
            var outputMask = inputDegree.unsqueeze(1).gt(hiddenDegree.unsqueeze(0)).to(ScalarType.Float32);  // [d, H]
            if (d == 1) inputMask.zero_();
            masks = [inputMask.DetachFromDisposeScope(), outputMask.DetachFromDisposeScope()];
            RegisterComponents();
        }

        /// <summary>The step's weights as the recipe of <see cref="Portable"/> uses them: float32, masks applied.</summary>
        public IEnumerable<(string Name, Tensor Tensor)> MaskedWeights()
        {
            yield return ("input.weight", (input.weight! * masks[0].to(input.weight!.dtype)).to(ScalarType.Float32));
            yield return ("input.bias", input.bias!.to(ScalarType.Float32));
            yield return ("context.weight", context.weight!.to(ScalarType.Float32));
            yield return ("shift.weight", (shift.weight! * masks[1].to(shift.weight!.dtype)).to(ScalarType.Float32));
            yield return ("shift.bias", shift.bias!.to(ScalarType.Float32));
            yield return ("scale.weight", (scale.weight! * masks[1].to(scale.weight!.dtype)).to(ScalarType.Float32));
            yield return ("scale.bias", scale.bias!.to(ScalarType.Float32));
        }

        /// <summary>m and s [..., B, d] for codes z [..., B, d] and context h [B, H], in the weights' type, returned as float32.</summary>
        public (Tensor M, Tensor S) Shift(Tensor z, Tensor h)
        {
            var type = input.weight!.dtype;
            var hidden = nn.functional.linear(z.to(type), input.weight! * masks[0].to(type), input.bias) + context.forward(h.to(type));
            hidden = nn.functional.elu(hidden, 1.0);
            var m = nn.functional.linear(hidden, shift.weight! * masks[1].to(type), shift.bias);
            var s = nn.functional.linear(hidden, scale.weight! * masks[1].to(type), scale.bias);
            return (m.to(z.dtype), s.to(z.dtype));
        }
    }
}

/// <summary>q(z|x) of an inverse autoregressive flow: z0 ~ N(mu, diag(sigma^2)), z_K = flow(z0; h), log q(z_K|x) =
/// log N(z0) - sum of the steps' log sigma.</summary>
public sealed class InverseAutoregressiveFlowPosterior(DiagonalGaussianPosterior baseQ, Tensor context, InverseAutoregressiveFlowFamily flow) : DrawnPosterior
{
    public DiagonalGaussianPosterior Base { get; } = baseQ;
    public Tensor Context { get; } = context;

    /// <summary>The base mean through the flow: the code used for pictures and metrics.</summary>
    public override Tensor Mean => flow.Transform(Base.Mu, Context).Z;

    public override (Tensor Z, Tensor LogQ) Sample(int k, Generator? rng)
    {
        var (z0, logQ0) = Base.Sample(k, rng);
        var (z, logDet) = flow.Transform(z0, Context);
        return (z, logQ0 - logDet);
    }

    public override Tensor LogDensity(Tensor z)
    {
        var (z0, logDet) = flow.Inverse(z, Context);
        return Base.LogDensity(z0) - logDet;
    }
}
