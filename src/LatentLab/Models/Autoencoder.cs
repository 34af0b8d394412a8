using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentLab.Models;

/// <summary>A model of images as parts: an encoder network, a posterior family built from its output, a prior, a
/// decoder network and a likelihood. The networks are chosen by the config's architecture (<see cref="Networks.Network"/>);
/// images are [B, C, H, W] tensors in [0, 1].</summary>
/// <remarks>Subclasses decide the posterior family (a Gaussian, or a point mass for a plain autoencoder), the prior and
/// the loss; everything outside Models/ asks for these parts and never tests the class. Parameter names
/// (encoder.0.weight, ..., decoder.4.bias for the MLP, prior.* for a learned prior) are the names in model.safetensors.</remarks>
public abstract class Autoencoder : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor> encoder;
    readonly Module<Tensor, Tensor> decoder;

    public ModelConfig Config { get; }

    protected Autoencoder(ModelConfig config, int encoderOutputs) : base(config.Name)
    {
        Config = config.Validate();
        encoder = Networks.Network.Encoder(config, encoderOutputs);
        decoder = Networks.Network.Decoder(config);
        RegisterComponents();
    }

    /// <summary>Builds the model a config describes, with freshly initialised weights (the prior's last, so a model with
    /// the standard prior draws exactly the weights it drew before priors were parts).</summary>
    public static Autoencoder Create(ModelConfig config) => config.Kind switch
    {
        ModelKind.Vae => new Vae.VariationalAutoencoder(config),
        ModelKind.Ae => new Ae.DeterministicAutoencoder(config),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    /// <summary>q(z|x) for a batch of images: a Gaussian for a VAE, a point mass at the code for an AE.</summary>
    public abstract Posteriors.Posterior Encode(Tensor x);

    /// <summary>A VAE's posterior family (what its encoder's outputs mean); null for an AE, whose code is a point.</summary>
    public virtual Posteriors.PosteriorFamily? PosteriorFamily => null;

    /// <summary>True when q(z|x) and p(z) are densities, so the ELBO, the importance-weighted bound and log p(x) exist.</summary>
    public abstract bool IsVariational { get; }

    /// <summary>p(z): a VAE's prior (fixed or learned), or what an AE samples from, a density fitted to its training
    /// codes after training (<see cref="Samplers"/>); null for an AE whose sampler is not fitted yet.</summary>
    public abstract Priors.Prior? Prior { get; }

    /// <summary>Fits what an AE samples from to its training codes [N, d] (a VAE's prior is part of the model: nothing
    /// to do); the same fitted sampler then serves every picture, the Fréchet distance and <see cref="TrainedModel.Sample"/>.</summary>
    public virtual void FitSampler(Tensor trainCodes) { }

    /// <summary>An AE's fitted sampler, as loaded from its run folder; a VAE has its prior and takes none.</summary>
    public virtual void UseSampler(Priors.Prior sampler) =>
        throw new InvalidOperationException($"{Config.Name} samples from its own prior, {Prior?.Description}");

    /// <summary>What an AE samples from when it is not part of the weights: saved beside them (sampler.safetensors).
    /// Null for a VAE, whose prior is in model.safetensors.</summary>
    public Priors.Prior? FittedSampler => IsVariational ? null : Prior;

    /// <summary>The code used for pictures and metrics: the code itself (AE) or the posterior mean (VAE).</summary>
    public Tensor EncodeMean(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Encode(x).Mean.MoveToOuterDisposeScope();
    }

    /// <summary>The loss on a batch; <paramref name="rng"/> draws any noise the model needs. <paramref name="klWeight"/>
    /// multiplies the KL term's weight beta: below 1 during a KL warm-up, 1 otherwise and in every evaluation.</summary>
    public abstract LossTerms Loss(Tensor x, Generator? rng, double klWeight = 1.0);

    /// <summary>The parameters the objective's optimiser trains: all but an adversary's.</summary>
    public virtual IEnumerable<Parameter> ObjectiveParameters() => parameters();

    /// <summary>The parameters of an adversary the objective trains against (FactorVAE's discriminator), which a second
    /// optimiser trains on <see cref="AdversaryLoss"/>; none for most models.</summary>
    public virtual IEnumerable<Parameter> AdversaryParameters() => [];

    /// <summary>The adversary's loss on a batch's detached codes (<see cref="LossTerms.Codes"/>).</summary>
    public virtual Tensor AdversaryLoss(Tensor codes, Generator? rng) => throw new InvalidOperationException("this model has no adversary");

    /// <summary>The images of the training set, N of the β-TCVAE's minibatch-weighted estimate of q(z) (set by the
    /// trainer; 0 takes the batch itself as the data set).</summary>
    public long TrainingSetSize { get; set; }

    /// <summary>Codes drawn from <see cref="Prior"/>, [n, d] float32: what every sample picture, the Fréchet distance and
    /// <see cref="TrainedModel.Sample"/> decode.</summary>
    public Tensor SamplePrior(long n, Generator rng) => (Prior ?? throw new LatentLabException(
        $"{Config.Name} is an autoencoder without a fitted sampler: it has no prior to sample from; run 'latent evaluate' first")).Sample(n, rng);

    /// <summary>log w = log p(x|z) + log p(z) - log q(z|x) for <paramref name="k"/> draws z ~ q(z|x) per image of
    /// <paramref name="x"/> (whose posterior is <paramref name="q"/>): [k, B] nats. The importance weights of the IWAE
    /// objective and of the likelihood estimate (Burda et al. 2015), written once.</summary>
    public Tensor LogWeights(Posteriors.Posterior q, Tensor x, int k, Generator? rng)
    {
        if (!IsVariational || Prior is not { } prior) throw new InvalidOperationException($"{Config.Name} has no posterior density");
        using var scope = NewDisposeScope();
        var (z, logQ) = q.Sample(k, rng);                                        // [k, B, d], [k, B]
        long n = x.shape[0], d = z.shape[2];
        // Without gradients (the likelihood estimate), an MLP decoder's likelihood in fused passes: the same values.
        var logPxGivenZ = Networks.MlpBernoulliLikelihood.Applies(this)
            ? Networks.MlpBernoulliLikelihood.LogLikelihood(this, z.view(k * n, d), x.flatten(1)).view(k, n)
            : Likelihood.LogBernoulli(Decode(z.view(k * n, d)).view(k, n, -1), x.flatten(1));   // [k, B]
        return (logPxGivenZ + prior.LogDensity(z) - logQ).MoveToOuterDisposeScope();
    }

    /// <summary>The type of the encoder's and decoder's weights and activations: float32, or bfloat16 for a
    /// mixed-precision twin (<see cref="Twin"/>). Inputs are cast to it on the way in, outputs back to float32 on the
    /// way out, so losses, reductions and metrics always see float32: the one place the precision is applied.</summary>
    public ScalarType ComputeType { get; private set; } = ScalarType.Float32;

    /// <summary>Decoder logits [B, C, H, W] (apply sigmoid for pixel intensities), float32.</summary>
    public Tensor Decode(Tensor z) => Config.TopLatentDim > 0 ? DecodeLower(z) : Computed(decoder, z);

    /// <summary>A two-level VAE's decoder reads z1, the first <see cref="ModelConfig.DecoderLatentDim"/> values of the code.</summary>
    Tensor DecodeLower(Tensor z)
    {
        using var z1 = z.narrow(-1, 0, Config.DecoderLatentDim);
        return Computed(decoder, z1);
    }

    /// <summary>A model of the same config whose layers run in <paramref name="type"/>, holding this model's weights
    /// rounded to it. It draws nothing from the global random generator (its fresh initial weights are overwritten),
    /// so making one does not change what a seeded run does next.</summary>
    public Autoencoder Twin(ScalarType type)
    {
        using var state = random.get_rng_state();
        var twin = Create(Config);
        random.set_rng_state(state);
        twin.to(type);
        twin.ComputeType = type;
        twin.CopyWeightsFrom(this);
        return twin;
    }

    /// <summary>Copies (and rounds) <paramref name="source"/>'s weights into this model's, parameter by parameter.</summary>
    public void CopyWeightsFrom(Autoencoder source)
    {
        using var noGrad = no_grad();
        foreach (var (mine, theirs) in parameters().Zip(source.parameters())) mine.copy_(theirs);
    }

    Tensor Computed(Module<Tensor, Tensor> network, Tensor input)
    {
        if (ComputeType == ScalarType.Float32 && input.dtype == ScalarType.Float32) return network.forward(input);
        using var cast = input.to(ComputeType);
        using var output = network.forward(cast);
        return output.to(ScalarType.Float32);
    }

    /// <summary>Reconstruction logits at the mean code.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Decode(EncodeMean(x)).MoveToOuterDisposeScope();
    }

    /// <summary>The encoder's output, float32.</summary>
    protected Tensor EncoderOutput(Tensor x) => Computed(encoder, x);
}
