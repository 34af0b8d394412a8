using LatentLab.IO;
using static TorchSharp.torch;

namespace LatentLab.Models.Samplers;

/// <summary>sampler.safetensors: an autoencoder's fitted sampler beside its weights, so every program that loads the
/// run (figures, the report, <see cref="TrainedModel.Sample"/>) samples from the same density. Its metadata names the
/// kind (<c>sampler</c>: <c>gaussian</c> with <c>mean</c> and <c>covariance</c>, or <c>gmm</c> with <c>weights</c>
/// [K], <c>means</c> [K, d] and <c>covariances</c> [K, d, d]); the tensors are float64.</summary>
public static class SamplerFile
{
    public const string FileName = "sampler.safetensors";

    public static void Save(Priors.Prior sampler, string path)
    {
        switch (sampler)
        {
            case GaussianSampler gaussian:
                SafeTensors.Write(path, [("mean", gaussian.Mean), ("covariance", gaussian.Covariance)],
                    new Dictionary<string, string> { ["sampler"] = "gaussian" });
                break;
            case GaussianMixtureSampler mixture:
                SafeTensors.Write(path, [("weights", mixture.Weights), ("means", mixture.Means), ("covariances", mixture.Covariances)],
                    new Dictionary<string, string> { ["sampler"] = "gmm" });
                break;
            default:
                throw new ArgumentException($"no file format for {sampler.GetType().Name}", nameof(sampler));
        }
    }

    public static Priors.Prior Load(string path, int latentDim)
    {
        var (tensors, metadata) = SafeTensors.Read(path);
        Tensor Get(string name, params long[] shape)
        {
            if (!tensors.TryGetValue(name, out var t)) throw new CorruptFileException(path, $"tensor '{name}' is missing");
            if (!t.Shape.SequenceEqual(shape)) throw new CorruptFileException(path, $"tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
            return t.ToTensor();
        }
        switch (metadata.GetValueOrDefault("sampler"))
        {
            case "gaussian":
                using (var mean = Get("mean", latentDim))
                using (var covariance = Get("covariance", latentDim, latentDim))
                    return GaussianSampler.From(mean, covariance);
            case "gmm":
                if (!tensors.TryGetValue("weights", out var w)) throw new CorruptFileException(path, "tensor 'weights' is missing");
                long k = w.Shape.FirstOrDefault();
                using (var weights = Get("weights", k))
                using (var means = Get("means", k, latentDim))
                using (var covariances = Get("covariances", k, latentDim, latentDim))
                    return GaussianMixtureSampler.From(weights, means, covariances);
            case var other:
                throw new CorruptFileException(path, $"unknown sampler kind '{other}'");
        }
    }
}
