using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LatentLab.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Training;

/// <summary>Adam (Kingma &amp; Ba 2015) over all parameters at once: torch.optim.Adam's arithmetic in its order, in
/// one vectorised pass over memory.</summary>
/// <remarks>Why: TorchSharp's optim.Adam runs ~10 small tensor operations per parameter tensor per step, and on a CPU
/// those dispatches and their passes over memory cost as much as the model's matrix products. Here every parameter
/// is re-pointed (set_) to a slice of one flat buffer and every gradient is a slice of one flat gradient buffer
/// (autograd accumulates into an existing .grad in place, so backward writes straight into it). A step is then one
/// loop over the four buffers (<see cref="FusedStep"/>), a slice per libtorch thread on libtorch's own OpenMP threads
/// (<see cref="OmpTeam"/>): the moments, the square root, the
/// parameters, and the gradient cleared for the next backward; 16 bytes read and 16 written per parameter.
/// It repeats libtorch's float32 operations in libtorch's order (except subnormal arithmetic: <see cref="SmallestNormal"/>
/// and <see cref="ZeroBelow"/>), with its fused multiply-adds, so the moments are
/// bit for bit torch.optim.Adam's. The square root is the hardware's, correctly rounded (IEEE 754). libtorch's is not:
/// it computes a float32 tensor's sqrt with MKL's vsSqrt, which differs from IEEE sqrt in the last bit of about 17% of
/// Adam's v values. Calling that vsSqrt (libtorch_cpu exports it) block by block gave torch.optim.Adam's parameters bit
/// for bit, but took 1.7-1.9 ms a step for vae_32d's 1.09 M parameters on the AMD EPYC against 0.72 ms with the
/// hardware's, most of Adam's time (measured 2026-12-01). So a parameter whose denominator met such a value moves by one
/// rounding more or less than under torch.optim.Adam; FlatAdamTests bounds what that does over 100 steps.</remarks>
public sealed class FlatAdam : IDisposable
{
    readonly Tensor _parameters;
    readonly Tensor _gradients;
    readonly Tensor _m;
    readonly Tensor _v;
    readonly double _beta1, _beta2, _eps;
    // Mixed precision: a bfloat16 copy of the parameters that a twin model computes with, and its gradients.
    readonly Tensor? _mirror;
    readonly Tensor? _mirrorGradients;

    /// <summary>The step size of the next step; a schedule may change it between steps.</summary>
    public double LearningRate { get; set; }
    /// <summary>Number of steps taken (t in the paper).</summary>
    public long Steps { get; private set; }
    public long ParameterCount => _parameters.numel();

    /// <param name="bf16Mirror">The parameters of a bfloat16 twin of the model (<see cref="Models.Autoencoder.Twin"/>),
    /// in the same order: they are re-pointed to one flat bfloat16 buffer holding the float32 parameters rounded to
    /// nearest even, their gradients to another. Backward then runs through the twin, and each step reads the twin's
    /// gradients, updates the float32 parameters and moments, and rounds the new parameters into the twin, all in
    /// one pass over memory (<see cref="MixedStep"/>).</param>
    public FlatAdam(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        IEnumerable<Parameter>? bf16Mirror = null)
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
        if (type != ScalarType.Float32) throw new ArgumentException("FlatAdam needs float32 parameters");

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
        if (bf16Mirror is null) return;

        var twins = bf16Mirror.ToList();
        if (twins.Count != list.Count || twins.Zip(list).Any(pair => pair.First.numel() != pair.Second.numel() || pair.First.dtype != ScalarType.BFloat16))
            throw new ArgumentException("the bf16 mirror must hold the same parameters in bfloat16", nameof(bf16Mirror));
        _mirror = zeros(total, dtype: ScalarType.BFloat16);
        _mirrorGradients = zeros(total, dtype: ScalarType.BFloat16);
        offset = 0;
        foreach (var p in twins)
        {
            long n = p.numel();
            using var slice = _mirror.narrow(0, offset, n).view(p.shape);
            p.set_(slice);
            p.grad = _mirrorGradients.narrow(0, offset, n).view(p.shape);
            offset += n;
        }
        SyncMirror();
    }

    /// <summary>Whether steps read the gradients of a bfloat16 twin (mixed precision).</summary>
    public bool Mixed => _mirror is not null;

    /// <summary>Rounds the float32 parameters into the bfloat16 twin: after loading weights into the model.</summary>
    public void SyncMirror()
    {
        if (_mirror is null) return;
        using var noGrad = no_grad();
        _mirror.copy_(_parameters);
    }

    /// <summary>Clears the gradient buffer. <see cref="Step"/> already leaves it cleared; this is for the first
    /// step and for code that computes gradients without stepping.</summary>
    public void ZeroGrad() => (_mirrorGradients ?? _gradients).zero_();

    /// <summary>One Adam step from the gradients now in the flat buffer, which it leaves cleared.</summary>
    public void Step()
    {
        Steps++;
        double correction1 = 1 - Math.Pow(_beta1, Steps);
        double correction2 = 1 - Math.Pow(_beta2, Steps);
        // Scalars as libtorch receives them from TorchSharp's Adam: computed in double, used as float.
        var c = new StepConstants((float)_beta1, (float)(1 - _beta1), (float)_beta2, (float)(1 - _beta2),
            (float)Math.Sqrt(correction2), (float)_eps, (float)(-LearningRate / correction1));
        if (_mirror is not null)
        {
            var (pp, mm, vv, bp, bg) = (Address(_parameters), Address(_m), Address(_v), Address(_mirror), Address(_mirrorGradients!));
            ForEachSlice((offset, count) => MixedStep(pp + offset, mm + offset, vv + offset, bp + offset / 2, bg + offset / 2, count, c));
            return;
        }
        var (p, g, m, v) = (Address(_parameters), Address(_gradients), Address(_m), Address(_v));
        ForEachSlice((offset, count) => FusedStep(p + offset, g + offset, m + offset, v + offset, count, c));
    }

    readonly record struct StepConstants(float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
        float SqrtCorrection2, float Eps, float NegativeStepSize)
    {
        /// <summary>First moments below this give a step term (lr m) under 2^-126: see <see cref="ZeroBelow"/>.</summary>
        public float StepFloorScalar => SmallestNormal / MathF.Abs(NegativeStepSize);
    }

    /// <summary>Runs <paramref name="body"/>(byte offset, element count) over one slice per libtorch thread, on libtorch's
    /// own OpenMP threads (<see cref="OmpTeam"/>: a .NET thread beside them shares a core with a spinning one). Slices
    /// start at multiples of 64 elements; small models take one.</summary>
    void ForEachSlice(Action<nint, int> body)
    {
        long n = _parameters.numel();
        OmpTeam.Run((slice, slices) =>
        {
            long begin = n * slice / slices / 64 * 64, end = slice == slices - 1 ? n : n * (slice + 1) / slices / 64 * 64;
            body((nint)(sizeof(float) * begin), (int)(end - begin));
        }, maxParts: (int)Math.Max(1, n / 65536));
    }

    // The update loops are compiled fully optimised at once: under tiered compilation they ran unoptimised for the
    // first hundreds of steps, which made the first model a process trains about 40% slower.
    /// <summary>The float32 step, one pass: m = m*b1 + (1-b1)*g (libtorch: mul_, then add_ as a fused multiply-add);
    /// v = v*b2 + ((1-b2)*g)*g (mul_, then addcmul_, also fused); p = p + (-lr/(1-b1^t) * m) / (sqrt(v)/sqrt(1-b2^t) + eps)
    /// (sqrt, div, add_, addcdiv_); g = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void FusedStep(nint parameters, nint gradients, nint moment1, nint moment2, int count, StepConstants c)
    {
        var p = new Span<float>((void*)parameters, count);
        var g = new Span<float>((void*)gradients, count);
        var m = new Span<float>((void*)moment1, count);
        var v = new Span<float>((void*)moment2, count);
        var pv = MemoryMarshal.Cast<float, Vector<float>>(p);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        var vectors = new StepVectors(c);
        for (int k = 0; k < pv.Length; k++)
        {
            Update(ref pv[k], ref mv[k], ref vv[k], gv[k], vectors);
            gv[k] = Vector<float>.Zero;
        }
        for (int i = pv.Length * Vector<float>.Count; i < count; i++)
        {
            Update(ref p[i], ref m[i], ref v[i], g[i], c);
            g[i] = 0;
        }
    }

    /// <summary>The mixed-precision step, one pass: g = the twin's bfloat16 gradient widened; the moments and p as in
    /// <see cref="FusedStep"/>; the twin's weight = p rounded to nearest even, as libtorch casts; the twin's gradient
    /// cleared. 30 bytes of memory traffic per parameter, where the float32 step moves 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void MixedStep(nint parameters, nint moment1, nint moment2, nint mirror, nint mirrorGradients, int count, StepConstants c)
    {
        var p = new Span<float>((void*)parameters, count);
        var m = new Span<float>((void*)moment1, count);
        var v = new Span<float>((void*)moment2, count);
        var bp = new Span<ushort>((void*)mirror, count);
        var bg = new Span<ushort>((void*)mirrorGradients, count);
        var pv = MemoryMarshal.Cast<float, Vector<float>>(p);
        var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        var bpv = MemoryMarshal.Cast<ushort, Vector<ushort>>(bp);
        var bgv = MemoryMarshal.Cast<ushort, Vector<ushort>>(bg);
        var vectors = new StepVectors(c);
        for (int k = 0; k < bgv.Length; k++)
        {
            Vector.Widen(bgv[k], out var low, out var high);
            var first = BFloat16Bits.Round(Update(ref pv[2 * k], ref mv[2 * k], ref vv[2 * k], BFloat16Bits.Widen(low), vectors));
            var second = BFloat16Bits.Round(Update(ref pv[2 * k + 1], ref mv[2 * k + 1], ref vv[2 * k + 1], BFloat16Bits.Widen(high), vectors));
            bpv[k] = Vector.Narrow(first, second);
            bgv[k] = Vector<ushort>.Zero;
        }

        for (int i = bgv.Length * Vector<ushort>.Count; i < count; i++)
        {
            float weight = Update(ref p[i], ref m[i], ref v[i], BFloat16Bits.Widen(bg[i]), c);
            bp[i] = BFloat16Bits.Round(weight);
            bg[i] = 0;
        }
    }

    /// <summary>One vector of Adam's arithmetic, both steps': the moments and the parameters updated in place, in
    /// libtorch's order (see <see cref="FusedStep"/>); returns the new parameters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Update(ref Vector<float> p, ref Vector<float> m, ref Vector<float> v, Vector<float> grad, in StepVectors c)
    {
        m = FlushSubnormal(Vector.FusedMultiplyAdd(grad, c.OneMinusBeta1, m * c.Beta1));
        v = FlushSubnormal(Vector.FusedMultiplyAdd(c.OneMinusBeta2 * grad, grad, v * c.Beta2));
        p += c.NegativeStepSize * ZeroBelow(m, c.StepFloor) / (Vector.SquareRoot(v) / c.SqrtCorrection2 + c.Eps);
        return p;
    }

    /// <summary><see cref="StepConstants"/> broadcast to vectors once per slice, not once per vector of parameters
    /// (built inside the loop, they cost the float32 step half its speed: 0.45 s an epoch against 0.2).</summary>
    readonly struct StepVectors(StepConstants c)
    {
        public readonly Vector<float> Beta1 = new(c.Beta1), OneMinusBeta1 = new(c.OneMinusBeta1), Beta2 = new(c.Beta2),
            OneMinusBeta2 = new(c.OneMinusBeta2), SqrtCorrection2 = new(c.SqrtCorrection2), Eps = new(c.Eps), NegativeStepSize = new(c.NegativeStepSize),
            StepFloor = new(c.StepFloorScalar);
    }

    /// <summary>The same for one value (the tail after the last whole vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Update(ref float p, ref float m, ref float v, float grad, StepConstants c)
    {
        m = FlushSubnormal(MathF.FusedMultiplyAdd(grad, c.OneMinusBeta1, m * c.Beta1));
        v = FlushSubnormal(MathF.FusedMultiplyAdd(c.OneMinusBeta2 * grad, grad, v * c.Beta2));
        p += c.NegativeStepSize * (MathF.Abs(m) < c.StepFloorScalar ? 0 : m) / (MathF.Sqrt(v) / c.SqrtCorrection2 + c.Eps);
        return p;
    }

    /// <summary>A moment below float32's smallest normal number (2^-126) becomes 0. Why: a parameter whose gradient
    /// stops (a ReLU unit that no longer fires) has its first moment decay by beta1 each step, through the subnormal
    /// numbers after about 800 steps, and each operation on a subnormal costs a microcode assist on Intel CPUs: measured
    /// on the Intel Xeon (2026-12-06), vae_32d's float32 Adam took 0.28 s in epoch 1 and 1.9 s an epoch from epoch 3.
    /// What it changes: nothing that reaches a parameter. With |m| &lt; 2^-126 and a denominator of at least eps = 1e-8,
    /// the step is below lr 2^-126 / eps = 1.2e-33, under half an ulp of any parameter larger than 2e-26 in magnitude;
    /// with v &lt; 2^-126, sqrt(v)/sqrt(1 - beta2^t) is at most 3.5e-18, under half an ulp of eps, so the denominator
    /// rounds to the same float either way.</summary>
    const float SmallestNormal = 1.17549435e-38f;   // 2^-126

    /// <summary>x where |x| is at least <paramref name="floor"/>, else 0. The step leaves out the term of a first moment
    /// below <see cref="StepConstants.StepFloorScalar"/> (2^-126 / (lr / (1 - beta1^t))): that term, lr m, would be a
    /// subnormal number, and on the Intel Xeon every operation that makes one or reads one is a microcode assist. A first
    /// moment passes through that range for a few hundred steps as it decays (below 2^-126 it is zero): measured
    /// 2026-12-06, vae_32d's float32 Adam took 0.02 s per 50 steps, and 0.11-0.18 s per 50 in steps 700-850, where many
    /// moments of the weights whose gradients had stopped were passing through it. What it changes: the parameter's step
    /// was below 2^-126 / eps = 1.2e-30, under half an ulp of any parameter larger than 1e-23 in magnitude; the moments
    /// themselves are kept as libtorch keeps them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> ZeroBelow(Vector<float> x, Vector<float> floor) =>
        Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(x), floor), Vector<float>.Zero, x);   // NaN stays NaN

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> FlushSubnormal(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.GreaterThanOrEqual(Vector.Abs(x), new Vector<float>(SmallestNormal)), x, Vector<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float FlushSubnormal(float x) => MathF.Abs(x) >= SmallestNormal ? x : 0;

    /// <summary>The address of a contiguous CPU tensor's first element; libtorch memory does not move.</summary>
    static unsafe nint Address(Tensor t) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

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
        _mirror?.Dispose();
        _mirrorGradients?.Dispose();
    }
}
