using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Training;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab;

/// <summary>A trained model loaded from its run folder, for programs that embed LatentLab: images and codes as plain
/// float arrays, no tensors to manage.</summary>
/// <remarks>An image is <see cref="ImageShape"/>.Pixels values in [0, 1], channels first (C, H, W), rows top to bottom;
/// a code is <see cref="LatentDim"/> values. Thread-safe for reading; one instance per model.</remarks>
public sealed class TrainedModel : IDisposable
{
    readonly Autoencoder _model;

    TrainedModel(Autoencoder model)
    {
        _model = model;
        _model.eval();
    }

    /// <summary>Loads <c>config.json</c> and <c>model.safetensors</c> (checked against <c>SHA256SUMS</c>) from a run folder.</summary>
    public static TrainedModel Load(string runFolder)
    {
        var folder = new RunFolder(Path.GetFullPath(runFolder));
        return new TrainedModel(folder.LoadModel());
    }

    /// <summary>The run's name, e.g. <c>vae_2d</c> or <c>vae_32d-conv</c>.</summary>
    public string Name => _model.Config.Name;
    /// <summary>True for a variational autoencoder: q(z|x) and p(z) are densities.</summary>
    public bool IsVariational => _model.IsVariational;
    public ImageShape ImageShape => _model.Config.Image;
    public int LatentDim => _model.Config.LatentDim;

    /// <summary>The code of each image: the posterior mean for a VAE, the code for an AE.</summary>
    public float[][] Encode(IReadOnlyList<float[]> images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Stack(images, ImageShape.Pixels, "image").view(ImageShape.TensorShape(images.Count));
        return Rows(_model.EncodeMean(x), LatentDim);
    }

    /// <summary>The image each code decodes to (pixel intensities in [0, 1]).</summary>
    public float[][] Decode(IReadOnlyList<float[]> codes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Rows(_model.Decode(Stack(codes, LatentDim, "code")).sigmoid(), ImageShape.Pixels);
    }

    /// <summary>Decoded samples: a VAE's codes drawn from its prior; an AE's from the sampler fitted to its training
    /// codes (sampler.safetensors, written by <c>latent evaluate</c>), the one its figures and Fréchet distance use.</summary>
    public float[][] Sample(int count, long seed = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new Generator((ulong)seed);
        return Rows(_model.Decode(_model.SamplePrior(count, rng)).sigmoid(), ImageShape.Pixels);
    }

    /// <summary>The codes <see cref="Sample"/> decodes, for the same <paramref name="seed"/>: draws from the prior or the
    /// AE's fitted sampler.</summary>
    public float[][] SampleCodes(int count, long seed = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new Generator((ulong)seed);
        return Rows(_model.SamplePrior(count, rng), LatentDim);
    }

    static Tensor Stack(IReadOnlyList<float[]> rows, int length, string what)
    {
        var flat = new float[rows.Count * length];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != length) throw new ArgumentException($"{what} {i} has {rows[i].Length} values, the model needs {length}");
            rows[i].CopyTo(flat, i * length);
        }
        return tensor(flat, [rows.Count, length]);
    }

    static float[][] Rows(Tensor t, int length)
    {
        var values = t.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, values.Length / length).Select(i => values.AsSpan(i * length, length).ToArray()).ToArray();
    }

    public void Dispose() => _model.Dispose();
}
