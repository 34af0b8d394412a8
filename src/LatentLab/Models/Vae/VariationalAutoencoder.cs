using LatentLab.Models.Posteriors;
using LatentLab.Models.Priors;
using static TorchSharp.torch;

namespace LatentLab.Models.Vae;

/// <summary>VAE (Kingma &amp; Welling 2014): Gaussian encoder q(z|x) = N(mu, exp(logVar)), a prior from
/// <see cref="PriorRegistry"/> (N(0, I) unless <c>--prior</c> says otherwise), Bernoulli decoder.</summary>
/// <remarks>Loss = reconstruction + beta * KL(q(z|x) || p(z)): the negative ELBO for beta = 1, nats per image; with
/// <see cref="ModelConfig.IwaeSamples"/> k > 1, the negative importance-weighted bound (Burda et al. 2015).</remarks>
public sealed class VariationalAutoencoder : Autoencoder
{
    readonly Prior prior;
    readonly PosteriorFamily posterior;
    readonly TotalCorrelationDiscriminator? discriminator;

    public VariationalAutoencoder(ModelConfig config) : this(config, config.Validate().TopLatentDim > 0
        ? new TwoLevelFamily(config) : PosteriorRegistry.Get(config.Posterior).Build(config)) { }

    /// <remarks>The posterior family is built first (its encoder width depends on it); the Gaussian has no parameters,
    /// so a Gaussian VAE draws exactly the weights it drew before posteriors were families.</remarks>
    VariationalAutoencoder(ModelConfig config, PosteriorFamily family) : base(config, family.EncoderOutputs)
    {
        posterior = family;
        prior = family is TwoLevelFamily twoLevel
            ? new TwoLevelPrior(config, x => TopPosteriorAtMean(twoLevel, x))
            : PriorRegistry.Get(config.Prior).Build(config, x => Encode(x) as DiagonalGaussianPosterior
                ?? throw new InvalidOperationException("the VampPrior needs a Gaussian posterior"));
        register_module("prior", prior);
        register_module("posterior", posterior);
        // FactorVAE's adversary, built last so that every other weight is drawn as without it.
        if (config.Gamma is not null)
        {
            discriminator = new TotalCorrelationDiscriminator(config.LatentDim);
            register_module("discriminator", discriminator);
        }
    }

    /// <summary>q(z2 | z1 = mu1(x)) of a two-level VAE: the components of a VampPrior on its top layer.</summary>
    DiagonalGaussianPosterior TopPosteriorAtMean(TwoLevelFamily family, Tensor x)
    {
        var (mu, logVar) = family.Upper(((TwoLevelPosterior)Encode(x)).Lower.Mu);
        return new DiagonalGaussianPosterior(mu, logVar);
    }

    public override bool IsVariational => true;

    public override IEnumerable<TorchSharp.Modules.Parameter> ObjectiveParameters() =>
        named_parameters().Where(p => !p.name.StartsWith("discriminator.", StringComparison.Ordinal)).Select(p => p.parameter);

    public override IEnumerable<TorchSharp.Modules.Parameter> AdversaryParameters() => discriminator?.parameters() ?? [];

    public override Tensor AdversaryLoss(Tensor codes, Generator? rng) =>
        discriminator?.Loss(codes, rng) ?? throw new InvalidOperationException("this VAE has no discriminator (--gamma)");
    public override PosteriorFamily PosteriorFamily => posterior;
    public override Prior Prior => prior;

    /// <summary>The posterior the family builds from the encoder's output: for the Gaussian, the output split into mean
    /// and log-variance, each [B, latentDim].</summary>
    public override Posterior Encode(Tensor x) => posterior.FromEncoderOutput(EncoderOutput(x));

    public override LossTerms Loss(Tensor x, Generator? rng, double klWeight = 1.0)
    {
        if (Config.IwaeSamples > 1) return ImportanceWeightedLoss(x, Config.IwaeSamples, rng, klWeight);
        using var scope = NewDisposeScope();
        var q = Encode(x);
        var (z, logQ) = q.SampleWithDensity(rng);
        var reconstruction = Losses.Reconstruction(Decode(z), x, Config.Recon);
        if (discriminator is not null && Config.Gamma is { } gamma)
        {
            // FactorVAE (Kim & Mnih 2018): -ELBO + gamma TC, TC the discriminator's density-ratio estimate at the codes.
            var elboKl = Objectives.Kl(q, prior, z, logQ).mean();
            var tc = discriminator.TotalCorrelation(z);
            var factorObjective = reconstruction + elboKl * klWeight + tc * gamma;
            var codes = z.detach();
            scope.MoveToOuter(factorObjective, reconstruction, elboKl, codes);
            // The KL term's three parts by minibatch-weighted sampling, for history.csv only: computed when evaluating,
            // not in the training step, whose caller does not read them.
            if (training) return new LossTerms(factorObjective, reconstruction, elboKl, Codes: codes);
            var gaussianQ = (DiagonalGaussianPosterior)q;
            KlDecomposition logged;
            using (no_grad()) logged = Objectives.DecomposeKl(codes, gaussianQ.Mu.detach(), gaussianQ.LogVar.detach(), prior, TrainingSetSize);
            scope.MoveToOuter(logged.MutualInformation, logged.TotalCorrelation, logged.DimensionKl);
            return new LossTerms(factorObjective, reconstruction, elboKl, logged, codes);
        }
        if (Config.TcWeight is { } tcWeight)
        {
            // β-TCVAE (Chen et al. 2018): -ELBO with the KL term's total correlation weighted apart.
            var gaussian = (DiagonalGaussianPosterior)q;
            var parts = Objectives.DecomposeKl(z, gaussian.Mu, gaussian.LogVar, prior, TrainingSetSize);
            var decomposed = parts.MutualInformation + parts.DimensionKl + parts.TotalCorrelation * tcWeight;
            var sum = parts.MutualInformation + parts.TotalCorrelation + parts.DimensionKl;
            var objective = reconstruction + decomposed * klWeight;
            scope.MoveToOuter(objective, reconstruction, sum, parts.MutualInformation, parts.TotalCorrelation, parts.DimensionKl);
            return new LossTerms(objective, reconstruction, sum, parts);
        }
        var kl = Objectives.Kl(q, prior, z, logQ).mean();
        var total = reconstruction + kl * (Config.Beta * klWeight);
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }

    /// <summary>-log (1/k) sum_i w_i, w_i = p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x) reparameterized: the IWAE loss
    /// (Burda et al. 2015), nats per image, averaged over the batch. Its terms for display: the reconstruction
    /// -log p(x|z) averaged over the k samples, and the KL (closed form, or its estimate at the first sample).</summary>
    /// <param name="klWeight">A warm-up's weight beta on the prior's and the posterior's terms inside each weight,
    /// log w_i = log p(x|z_i) + beta (log p(z_i) - log q(z_i|x)): at k = 1 the ELBO's KL warm-up; below 1 the weights
    /// favour the draws that reconstruct, as the ELBO's warm-up favours codes that carry information.</param>
    public LossTerms ImportanceWeightedLoss(Tensor x, int k, Generator? rng, double klWeight = 1.0)
    {
        if (Config.Dreg && training && is_grad_enabled()) return DoublyReparameterizedLoss(x, k, rng, klWeight);
        using var scope = NewDisposeScope();
        var q = Encode(x);
        var (z, logQ) = q.Sample(k, rng);                                            // [k, n, d], [k, n]
        long n = x.shape[0], d = z.shape[2];
        var logits = Decode(z.view(k * n, d)).view(k, n, -1);
        var logPxGivenZ = Likelihood.LogBernoulli(logits, x.flatten(1));               // [k, n]
        var logRatio = prior.LogDensity(z) - logQ;                                       // [k, n]
        var total = -Objectives.ImportanceWeightedBound(logPxGivenZ + (klWeight == 1.0 ? logRatio : logRatio * klWeight)).mean();
        var reconstruction = -logPxGivenZ.mean();
        var kl = (q.KlPerDimension(prior)?.sum([1]) ?? -logRatio[0]).mean();
        scope.MoveToOuter(total, reconstruction, kl);
        return new LossTerms(total, reconstruction, kl);
    }

    /// <summary>The IWAE loss of <see cref="ImportanceWeightedLoss"/>, the same value from the same draws, with the
    /// doubly reparameterized gradient (Tucker et al. 2019): the decoder and the prior get the usual gradient
    /// sum_i w~_i grad log w_i; the posterior's networks only the path derivative through the draws, each weighted by
    /// w~_i^2, which has the same expectation as the usual gradient without its score-function terms.</summary>
    /// <remarks>log q is taken at fixed parameters (<see cref="Posterior.LogDensityAtFixedParameters"/>) of a detached
    /// copy of the draws; <see cref="LossTerms.Backward"/> then sends the gradient found at that copy, scaled, down the
    /// draws. With a warm-up weight beta on the terms log p(z) - log q(z|x), the scale is (1 - beta) + beta w~_i: the
    /// score terms carry the factor beta, and removing them leaves that mixture of the path derivatives.</remarks>
    LossTerms DoublyReparameterizedLoss(Tensor x, int k, Generator? rng, double klWeight)
    {
        using var scope = NewDisposeScope();
        var q = Encode(x);
        var (draws, _) = q.Sample(k, rng);                                           // [k, n, d]
        var z = draws.detach().requires_grad_(true);
        long n = x.shape[0], d = z.shape[2];
        var logits = Decode(z.view(k * n, d)).view(k, n, -1);
        var logPxGivenZ = Likelihood.LogBernoulli(logits, x.flatten(1));               // [k, n]
        var logRatio = prior.LogDensity(z) - q.LogDensityAtFixedParameters(z);          // [k, n]
        var logW = logPxGivenZ + (klWeight == 1.0 ? logRatio : logRatio * klWeight);
        var total = -Objectives.ImportanceWeightedBound(logW).mean();
        Tensor scale;
        using (no_grad())
        {
            var normalized = logW.softmax(0);
            scale = klWeight == 1.0 ? normalized : normalized * klWeight + (1.0 - klWeight);
        }
        var reconstruction = -logPxGivenZ.mean();
        var kl = (q.KlPerDimension(prior)?.sum([1]) ?? -logRatio[0]).mean();
        scope.MoveToOuter(total, reconstruction, kl, z, draws, scale);
        return new LossTerms(total, reconstruction, kl, Path: new ReparameterizedPath(z, draws, scale));
    }
}
