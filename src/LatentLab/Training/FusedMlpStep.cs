using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LatentLab.Models;
using LatentLab.Models.Networks;
using LatentLab.Runtime;
using static TorchSharp.torch;

namespace LatentLab.Training;

/// <summary>One training step of an MLP VAE or AE written out by hand, in float32 or in mixed precision (bfloat16): the
/// forward pass, the loss and the gradients of every weight and bias, with libtorch's matrix products (<c>addmm_</c> into
/// buffers allocated once, the weight gradients straight into the optimiser's flat gradient buffer) and one vectorised
/// C# pass for the elementwise work between two products. The autograd path (<see cref="Autoencoder.Loss"/> and <c>backward()</c>) stays the
/// reference: FusedMlpStepTests holds the two together over 20 steps.</summary>
/// <remarks>
/// Which models: the paper's MLP presets and any MLP with one latent layer, a Gaussian posterior against N(0, I) (or an
/// AE's point mass), the Bernoulli likelihood (<c>--recon bce</c>), the ELBO (no IWAE objective, no β-TCVAE or FactorVAE
/// term); <see cref="Supports"/> says why not otherwise, and the trainer then takes the autograd path.
///
/// Why: autograd on a CPU spends between the products about as long as the products themselves (bench/README.md's
/// profile: vae_32d's float32 epoch 3.2 s, its products 1.6 s). Each elementwise operation is a pass over memory and a
/// tensor: the bias added by a copy before each product, ReLU and its backward, the binary cross-entropy's five passes
/// and its backward's three, each bias gradient a reduction of its own, each weight gradient accumulated into .grad by
/// another pass. Here: per layer one pass forward (bias and ReLU) and one backward (the ReLU's mask and the bias
/// gradient's column sums); the likelihood, its gradient and the last bias gradient in one pass; the reparameterised
/// draw and the KL term, forward and backward, in one pass each over the codes.
///
/// The same arithmetic as autograd's in float32, except the order of the sums (the loss is summed in float64 here, the
/// bias gradients row after row): the step's values agree with the reference to float32 rounding, not bit for bit.
/// The noise is drawn as the reference draws it (<c>normal_</c> on the trainer's generator, the same count in the same
/// order), so the two paths see the same ε.
///
/// In mixed precision the step trains a model's bfloat16 twin (<see cref="Autoencoder.Twin"/>, its weights and
/// gradients the views <see cref="FlatAdam"/> gives them) and keeps the twin's arithmetic: the same libtorch products on
/// the same bfloat16 operands (each layer's bias copied into its output first, as libtorch's linear starts its addmm),
/// bfloat16 activations and gradients between them, and the float32 work of the twin's loss (the code's draw, the KL
/// term, the likelihood and their gradients) on the widened values, each result rounded to bfloat16 to nearest even
/// where the twin casts it (FusedMlpStep.Bf16.cs).
/// </remarks>
public sealed partial class FusedMlpStep : IDisposable
{
    sealed record Layer(Tensor Weight, Tensor Bias, Tensor WeightGrad, Tensor BiasGrad)
    {
        public int Inputs => (int)Weight.shape[1];
        public int Outputs => (int)Weight.shape[0];
    }

    /// <summary>A batch size's activations and their gradients, allocated on first use.</summary>
    sealed class Buffers : IDisposable
    {
        public required Tensor[] Encoder, EncoderGrad, Decoder, DecoderGrad;
        public required Tensor Eps, Z, ZGrad;
        /// <summary>Mixed precision: the batch rounded to bfloat16 (the encoder's input), and float32 column sums.</summary>
        public Tensor? Input, Sums;
        public void Dispose()
        {
            foreach (var t in Encoder.Concat(EncoderGrad).Concat(Decoder).Concat(DecoderGrad).Append(Eps).Append(Z).Append(ZGrad)) t.Dispose();
            Input?.Dispose();
            Sums?.Dispose();
        }
    }

    readonly Layer[] _encoder, _decoder;
    readonly bool _variational;
    // Mixed precision: the layers are a bfloat16 twin's, activations and gradients bfloat16.
    readonly bool _bf16;
    readonly int _latent;
    readonly Dictionary<long, Buffers> _buffers = [];
    long _productTicks;

    /// <summary>Whether steps time their matrix products (<see cref="ProductSeconds"/>); off unless a profile asks.</summary>
    public bool TimeProducts { get; set; }

    /// <summary>Seconds the steps spent in libtorch's matrix products since <see cref="TimeProducts"/> was set: with the
    /// step's own time, what the passes between them and each call's overhead cost (the bench's profile prints both).</summary>
    public double ProductSeconds => (double)_productTicks / System.Diagnostics.Stopwatch.Frequency;

    /// <summary>Zeroes <see cref="ProductSeconds"/>.</summary>
    public void ResetProductTime() => _productTicks = 0;

    /// <summary>A timestamp for <see cref="StopClock"/> when <see cref="TimeProducts"/> is set, else 0 (no clock read).</summary>
    long StartClock() => TimeProducts ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;

    void StopClock(long start)
    {
        if (TimeProducts) _productTicks += System.Diagnostics.Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Null when the hand-written step computes <paramref name="model"/>'s loss as autograd does; else why not.</summary>
    public static string? Supports(Autoencoder model)
    {
        var c = model.Config;
        if (c.Arch != Models.Architecture.Mlp) return "not an MLP";
        if (c.Activation != Models.Activation.Relu) return "tanh units";
        if (model.ComputeType is not (ScalarType.Float32 or ScalarType.BFloat16)) return "neither float32 nor bfloat16";
        if (c.TopLatentDim > 0) return "two latent layers";
        if (c.Recon != ReconstructionLoss.Bce) return "not the Bernoulli likelihood";
        if (c.IwaeSamples > 1) return "the IWAE objective";
        if (c.TcWeight is not null || c.Gamma is not null) return "a total-correlation term";
        if (c.Kind == ModelKind.Vae && (c.Prior != Models.Priors.PriorRegistry.Standard || c.Posterior != Models.Posteriors.PosteriorRegistry.Gaussian))
            return "not a Gaussian posterior against N(0, I)";
        if (c.Kind is not (ModelKind.Vae or ModelKind.Ae)) return "another kind of model";
        // A weight and a bias for each layer of the encoder and of the decoder, and nothing else.
        if (model.ObjectiveParameters().Count() != 2 * 2 * (c.HiddenDims.Count + 1)) return "parameters beyond the encoder's and the decoder's layers";
        return null;
    }

    /// <summary>Takes the layers of <paramref name="model"/>, whose parameters and gradients must already be views of an
    /// optimiser's flat buffers (<see cref="FlatAdam"/>): the gradients are written there. A bfloat16 twin
    /// (<see cref="Autoencoder.ComputeType"/>) is trained in mixed precision: its gradients are the ones a mixed
    /// <see cref="FlatAdam"/> reads.</summary>
    public FusedMlpStep(Autoencoder model)
    {
        if (Supports(model) is { } why) throw new ArgumentException($"the fused step cannot train {model.Config.Name}: {why}", nameof(model));
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Layer[] Chain(string prefix) => LayerChain.Positions(parameters.Keys, prefix)
            .Select(i => new Layer(parameters[$"{prefix}{i}.weight"], parameters[$"{prefix}{i}.bias"],
                parameters[$"{prefix}{i}.weight"].grad ?? throw new InvalidOperationException("the optimiser has not given the weights gradient buffers"),
                parameters[$"{prefix}{i}.bias"].grad!))
            .ToArray();
        _encoder = Chain("encoder.");
        _decoder = Chain("decoder.");
        _variational = model.Config.Kind == ModelKind.Vae;
        _bf16 = model.ComputeType == ScalarType.BFloat16;
        _latent = model.Config.LatentDim;
        if (_encoder[^1].Outputs != (_variational ? 2 : 1) * _latent || _decoder[0].Inputs != _latent)
            throw new ArgumentException("the encoder's and decoder's widths do not match the latent size", nameof(model));
    }

    /// <summary>Forward, loss and backward on a batch <paramref name="x"/> [B, C, H, W] (float32, contiguous): every
    /// weight's and bias's gradient of the loss is written into its .grad (replacing what was there). Returns the loss,
    /// nats per image: the reconstruction plus <paramref name="klFactor"/> times the KL term (beta times the warm-up's
    /// factor, as <see cref="Models.Vae.VariationalAutoencoder.Loss"/> weighs it).</summary>
    public double Step(Tensor x, Generator? rng, double klFactor)
    {
        long rows = x.shape[0];
        var b = BuffersFor(rows);
        using var flat = x.view(rows, -1);
        if (flat.shape[1] != _encoder[0].Inputs) throw new ArgumentException($"images of {flat.shape[1]} values, the model takes {_encoder[0].Inputs}");
        using var noGrad = no_grad();

        // Encoder (in mixed precision from the batch rounded to bfloat16, as the twin casts its input).
        Tensor images = flat;
        if (_bf16) images = b.Input!.copy_(flat);
        var input = images;
        for (int i = 0; i < _encoder.Length; i++)
        {
            Linear(b.Encoder[i], input, _encoder[i], relu: i < _encoder.Length - 1);
            input = b.Encoder[i];
        }
        // The code: z = mu + eps exp(logVar / 2) and the KL term, or the AE's code itself.
        double kl = 0;
        Tensor z = b.Encoder[^1];
        if (_variational)
        {
            b.Eps.normal_(0, 1, rng);
            kl = _bf16 ? Bf16Elementwise.Reparameterize(b.Encoder[^1], b.Eps, b.Z) : Elementwise.Reparameterize(b.Encoder[^1], b.Eps, b.Z);
            z = b.Z;
        }
        // Decoder; in float32 the last layer's bias is added by the likelihood's pass.
        input = z;
        for (int i = 0; i < _decoder.Length; i++)
        {
            bool last = i == _decoder.Length - 1;
            Linear(b.Decoder[i], input, _decoder[i], relu: !last, bias: _bf16 || !last);
            input = b.Decoder[i];
        }
        // The likelihood and its gradient (into the logits' buffer's twin), the last bias's gradient with it.
        double reconstruction = _bf16
            ? Bf16Elementwise.BernoulliLoss(b.Decoder[^1], flat, b.DecoderGrad[^1], _decoder[^1].BiasGrad, b.Sums!)
            : Elementwise.BernoulliLoss(b.Decoder[^1], _decoder[^1].Bias, flat, b.DecoderGrad[^1], _decoder[^1].BiasGrad);

        // Decoder backward, then through the code to the encoder's output, then the encoder.
        // An AE's code is its encoder's output: the decoder's input gradient is the encoder's output gradient.
        Backward(_decoder, b.Decoder, b.DecoderGrad, z, _variational ? b.ZGrad : b.EncoderGrad[^1], b.Sums);
        if (_variational && _bf16) Bf16Elementwise.ReparameterizeBackward(b.ZGrad, b.Encoder[^1], b.Eps, b.EncoderGrad[^1], _encoder[^1].BiasGrad, klFactor, b.Sums!);
        else if (_variational) Elementwise.ReparameterizeBackward(b.ZGrad, b.Encoder[^1], b.Eps, b.EncoderGrad[^1], _encoder[^1].BiasGrad, klFactor);
        else if (_bf16) Bf16Elementwise.ColumnSums(b.EncoderGrad[^1], _encoder[^1].BiasGrad, b.Sums!);
        else Elementwise.ColumnSums(b.EncoderGrad[^1], _encoder[^1].BiasGrad);
        Backward(_encoder, b.Encoder, b.EncoderGrad, images, inputGrad: null, b.Sums);
        return (reconstruction + klFactor * kl) / rows;
    }

    /// <summary>h = input · Wᵀ (+ the bias, then ReLU with <paramref name="relu"/>). In float32 the bias and the ReLU
    /// take one C# pass after the product; in mixed precision the bias is copied into h and the product added to it,
    /// as libtorch's linear computes it (one rounding to bfloat16), then ReLU in place.</summary>
    void Linear(Tensor h, Tensor input, Layer layer, bool relu, bool bias = true)
    {
        if (!_bf16)
        {
            Product(h, input, layer.Weight, transposeSecond: true);
            if (bias) Elementwise.AddBias(h, layer.Bias, relu);
            return;
        }
        // In place: TorchSharp returns the same Tensor objects, which must not be disposed here.
        h.copy_(layer.Bias);
        using var weight = layer.Weight.t();
        long start = StartClock();
        h.addmm_(input, weight, beta: 1, alpha: 1);
        StopClock(start);
        if (relu) h.relu_();
    }

    /// <summary>Backward through a chain of layers whose last output's gradient is in <paramref name="grads"/>[^1]:
    /// each weight's gradient, then the gradient of the layer's input (masked by the ReLU that made it, with that
    /// layer's bias gradient); the chain's own input's gradient into <paramref name="inputGrad"/> unless null.
    /// In mixed precision (<paramref name="sums"/> given) the bias gradients are summed in float32 there and rounded.</summary>
    void Backward(Layer[] layers, Tensor[] outputs, Tensor[] grads, Tensor input, Tensor? inputGrad, Tensor? sums)
    {
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            Product(layers[i].WeightGrad, grads[i], i == 0 ? input : outputs[i - 1], transposeFirst: true);
            if (i > 0)
            {
                Product(grads[i - 1], grads[i], layers[i].Weight);
                if (sums is not null) Bf16Elementwise.ReluBackward(grads[i - 1], outputs[i - 1], layers[i - 1].BiasGrad, sums);
                else Elementwise.ReluBackward(grads[i - 1], outputs[i - 1], layers[i - 1].BiasGrad);
            }
            else if (inputGrad is not null) Product(inputGrad, grads[0], layers[0].Weight);
        }
    }

    /// <summary>result = first · second (either operand transposed as a view), written into result's memory.</summary>
    void Product(Tensor result, Tensor first, Tensor second, bool transposeFirst = false, bool transposeSecond = false)
    {
        using var a = transposeFirst ? first.t() : first.alias();
        using var b = transposeSecond ? second.t() : second.alias();
        long start = StartClock();
        // In place: TorchSharp returns the same Tensor object, which must not be disposed here.
        result.addmm_(a, b, beta: 0, alpha: 1);
        StopClock(start);
    }

    Buffers BuffersFor(long rows)
    {
        if (_buffers.TryGetValue(rows, out var b)) return b;
        // Kept across steps: out of whatever dispose scope the first step runs in.
        var type = _bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        Tensor New(long rows, long columns, ScalarType? dtype = null) => empty(rows, columns, dtype ?? type).DetachFromDisposeScope();
        Tensor[] Of(Layer[] layers) => layers.Select(l => New(rows, l.Outputs)).ToArray();
        b = new Buffers
        {
            Encoder = Of(_encoder), EncoderGrad = Of(_encoder), Decoder = Of(_decoder), DecoderGrad = Of(_decoder),
            // The noise is the generator's float32 draw either way.
            Eps = New(rows, _latent, ScalarType.Float32), Z = New(rows, _latent), ZGrad = New(rows, _latent),
            Input = _bf16 ? New(rows, _encoder[0].Inputs) : null,
            Sums = _bf16 ? New(1, _encoder.Concat(_decoder).Max(l => l.Outputs), ScalarType.Float32) : null,
        };
        _buffers[rows] = b;
        return b;
    }

    public void Dispose()
    {
        foreach (var b in _buffers.Values) b.Dispose();
        _buffers.Clear();
    }

    /// <summary>The passes between the products, over row-major float32 [rows, columns] tensors.</summary>
    /// <remarks>The likelihood's pass, the largest, runs on libtorch's own OpenMP threads (<see cref="OmpTeam"/>), split
    /// by columns; the others on the calling thread. Measured on the Intel Xeon, 2026-12-06: on .NET threads beside
    /// libtorch's spinning workers every pass was slower on two threads than on one (0.1-0.2 s an epoch); on the OpenMP
    /// team the likelihood's pass saves about 0.03 s an epoch, and the bias and ReLU passes (20-40 µs each) gained
    /// nothing measurable, so they stay on one thread.</remarks>
    internal static unsafe class Elementwise
    {
        static float* At(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

        /// <summary>Runs <paramref name="body"/>(range, first column, end column) over column ranges of an n-column matrix on
        /// libtorch's threads (<see cref="OmpTeam"/>): ranges start at multiples of 16 columns (64 bytes), so no two
        /// threads write one cache line, and each range's column sums (the bias gradients) are its own.</summary>
        internal static void ByColumns(int n, Action<int, int, int> body) =>
            OmpTeam.Run((part, parts) => body(part, ColumnStart(n, part, parts), ColumnStart(n, part + 1, parts)), maxParts: Math.Max(1, n / 128));

        static int ColumnStart(int n, int part, int parts) => part == parts ? n : n * part / parts / 16 * 16;

        /// <summary>h = h + bias, then max(h, 0) with <paramref name="relu"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void AddBias(Tensor h, Tensor bias, bool relu)
        {
            float* hp = At(h), bp = At(bias);
            int rows = (int)h.shape[0], n = (int)h.shape[1];
            for (int r = 0; r < rows; r++)
            {
                float* row = hp + (long)r * n;
                int j = 0;
                for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
                {
                    var v = Vector.Load(row + j) + Vector.Load(bp + j);
                    if (relu) v = Vector.Max(v, Vector<float>.Zero);
                    v.Store(row + j);
                }
                for (; j < n; j++)
                {
                    float v = row[j] + bp[j];
                    row[j] = relu ? MathF.Max(v, 0) : v;
                }
            }
        }

        /// <summary>Given the encoder's output [B, 2d] (mean, then log-variance) and eps [B, d]: z = mu + eps exp(logVar / 2)
        /// into <paramref name="z"/>; returns the KL term 0.5 (mu^2 + exp(logVar) - logVar - 1) summed over the batch.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static double Reparameterize(Tensor output, Tensor eps, Tensor z)
        {
            float* o = At(output), e = At(eps), zp = At(z);
            int rows = (int)eps.shape[0], d = (int)eps.shape[1];
            double kl = 0;
            for (int r = 0; r < rows; r++)
            {
                float* mu = o + (long)r * 2 * d, logVar = mu + d;
                float rowKl = 0;
                for (int j = 0; j < d; j++)
                {
                    zp[(long)r * d + j] = mu[j] + e[(long)r * d + j] * MathF.Exp(logVar[j] * 0.5f);
                    rowKl += 0.5f * (mu[j] * mu[j] + MathF.Exp(logVar[j]) - logVar[j] - 1);
                }
                kl += rowKl;
            }
            return kl;
        }

        /// <summary>The gradient of the loss (reconstruction + klFactor KL, averaged over the B images) with respect to
        /// the encoder's output, from dL/dz: d/dmu = dz + w mu, d/dlogVar = dz eps exp(logVar / 2) / 2 + w (exp(logVar) - 1) / 2,
        /// w = klFactor / B; the last encoder bias's gradient as its column sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void ReparameterizeBackward(Tensor zGrad, Tensor output, Tensor eps, Tensor outputGrad, Tensor biasGrad, double klFactor)
        {
            float* dz = At(zGrad), o = At(output), e = At(eps), g = At(outputGrad), db = At(biasGrad);
            int rows = (int)eps.shape[0], d = (int)eps.shape[1];
            // As autograd computes it: the mean's gradient 1/B in float32, times the KL's weight.
            float w = (float)klFactor * (1f / rows);
            new Span<float>(db, 2 * d).Clear();
            for (int r = 0; r < rows; r++)
            {
                float* mu = o + (long)r * 2 * d, logVar = mu + d, gm = g + (long)r * 2 * d, gv = gm + d;
                for (int j = 0; j < d; j++)
                {
                    float dzj = dz[(long)r * d + j];
                    gm[j] = dzj + w * mu[j];
                    gv[j] = dzj * e[(long)r * d + j] * (MathF.Exp(logVar[j] * 0.5f) * 0.5f) + w * 0.5f * (MathF.Exp(logVar[j]) - 1);
                    db[j] += gm[j];
                    db[d + j] += gv[j];
                }
            }
        }

        /// <summary>The bias's gradient as the column sums of its layer's output gradient (an AE's last encoder layer).</summary>
        public static void ColumnSums(Tensor grad, Tensor biasGrad)
        {
            float* g = At(grad), db = At(biasGrad);
            int rows = (int)grad.shape[0], n = (int)grad.shape[1];
            new Span<float>(db, n).Clear();
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++) db[j] += g[(long)r * n + j];
        }

        /// <summary>logits = the product + the last bias; the Bernoulli negative log-likelihood softplus(l) - x l summed
        /// over the batch (returned, float64), its gradient (sigmoid(l) - x) / B into <paramref name="logitsGrad"/>, and
        /// that gradient's column sums into <paramref name="biasGrad"/>: one pass over the [B, P] logits.</summary>
        public static double BernoulliLoss(Tensor product, Tensor bias, Tensor x, Tensor logitsGrad, Tensor biasGrad)
        {
            float* l = At(product), bp = At(bias), xp = At(x), g = At(logitsGrad), db = At(biasGrad);
            int rows = (int)product.shape[0], n = (int)product.shape[1];
            // One partial sum per column range, added in range order: the same total whichever thread ran which range.
            var sums = new double[Math.Max(1, get_num_threads())];
            ByColumns(n, (part, from, to) => sums[part] = BernoulliColumns(l, bp, xp, g, db, rows, n, from, to));
            double total = 0;
            foreach (double sum in sums) total += sum;
            return total;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static double BernoulliColumns(float* l, float* bp, float* xp, float* g, float* db, int rows, int n, int from, int to)
        {
            new Span<float>(db + from, to - from).Clear();
            float scale = 1f / rows;
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                long o = (long)r * n + from;
                sum += BernoulliRow(l + o, bp + from, xp + o, g + o, db + from, to - from, scale);
            }
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static double BernoulliRow(float* l, float* bias, float* x, float* g, float* column, int n, float scale)
        {
            var lossSum = Vector<float>.Zero;
            var one = Vector<float>.One;
            var scaleV = new Vector<float>(scale);
            float wide = 0;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                // 16 lanes where the CPU has them (Vector<float> is 8 wide by default even there): the pass is arithmetic-bound.
                var lossSum512 = Vector512<float>.Zero;
                var scale512 = Vector512.Create(scale);
                for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    var logit = Vector512.Load(l + j) + Vector512.Load(bias + j);
                    var target = Vector512.Load(x + j);
                    var e = VectorMath.ExpOfNegative(-Vector512.Abs(logit));
                    lossSum512 += Vector512.Max(logit, Vector512<float>.Zero) + VectorMath.Log1pOfUnit(e) - target * logit;
                    var sigmoid = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(logit, Vector512<float>.Zero), Vector512<float>.One, e) / (Vector512<float>.One + e);
                    var grad = (sigmoid - target) * scale512;
                    grad.Store(g + j);
                    (Vector512.Load(column + j) + grad).Store(column + j);
                }
                wide = Vector512.Sum(lossSum512);
            }
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                var logit = Vector.Load(l + j) + Vector.Load(bias + j);
                var target = Vector.Load(x + j);
                // softplus(l) = max(l, 0) + log1p(e) and sigmoid(l) = (l >= 0 ? 1 : e) / (1 + e), e = exp(-|l|).
                var e = VectorMath.ExpOfNegative(-Vector.Abs(logit));
                lossSum += Vector.Max(logit, Vector<float>.Zero) + VectorMath.Log1pOfUnit(e) - target * logit;
                var sigmoid = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(logit, Vector<float>.Zero), one, e) / (one + e);
                var grad = (sigmoid - target) * scaleV;
                grad.Store(g + j);
                (Vector.Load(column + j) + grad).Store(column + j);
            }
            float tail = 0;
            for (; j < n; j++)
            {
                float logit = l[j] + bias[j], target = x[j];
                float e = MathF.Exp(-MathF.Abs(logit));
                tail += MathF.Max(logit, 0) + MathF.Log(1 + e) - target * logit;
                float grad = ((logit >= 0 ? 1 : e) / (1 + e) - target) * scale;
                g[j] = grad;
                column[j] += grad;
            }
            return (double)wide + Vector.Sum(lossSum) + tail;
        }

        /// <summary>dh = dh where h &gt; 0, else 0 (ReLU's backward, h its output); the bias's gradient as dh's column sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void ReluBackward(Tensor dh, Tensor h, Tensor biasGrad)
        {
            float* g = At(dh), hp = At(h), db = At(biasGrad);
            int rows = (int)dh.shape[0], n = (int)dh.shape[1];
            new Span<float>(db, n).Clear();
            for (int r = 0; r < rows; r++)
            {
                float* gr = g + (long)r * n, hr = hp + (long)r * n;
                int j = 0;
                for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
                {
                    var masked = Vector.ConditionalSelect(Vector.GreaterThan(Vector.Load(hr + j), Vector<float>.Zero), Vector.Load(gr + j), Vector<float>.Zero);
                    masked.Store(gr + j);
                    (Vector.Load(db + j) + masked).Store(db + j);
                }
                for (; j < n; j++)
                {
                    float masked = hr[j] > 0 ? gr[j] : 0;
                    gr[j] = masked;
                    db[j] += masked;
                }
            }
        }
    }
}
