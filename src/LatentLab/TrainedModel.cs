using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Models.Vae;
using LatentLab.Training;
using static TorchSharp.torch;

namespace LatentLab;

/// <summary>A trained model loaded from its run folder, for programs that embed LatentLab: images and codes as plain
/// float arrays, no tensors to manage.</summary>
/// <remarks>An image is <see cref="ImageShape"/>.Pixels values in [0, 1], channels first (C, H, W), rows top to bottom;
/// a code is <see cref="LatentDim"/> values. Thread-safe for reading; one instance per model.</remarks>
public sealed class TrainedModel : IDisposable
{
    readonly Autoencoder _model;
    readonly double[]? _codeMean, _codeStd;

    TrainedModel(Autoencoder model, Metrics? metrics)
    {
        _model = model;
        _model.eval();
        (_codeMean, _codeStd) = (metrics?.LatentMean, metrics?.LatentStd);
    }

    /// <summary>Loads <c>config.json</c> and <c>model.safetensors</c> (checked against <c>SHA256SUMS</c>) from a run folder.</summary>
    public static TrainedModel Load(string runFolder)
    {
        var folder = new RunFolder(Path.GetFullPath(runFolder));
        var model = folder.LoadModel();
        var metrics = File.Exists(folder.MetricsPath) ? IO.Json.ReadFile<Metrics>(folder.MetricsPath) : null;
        return new TrainedModel(model, metrics);
    }

    /// <summary>The run's name, e.g. <c>vae_2d</c> or <c>vae_32d-conv</c>.</summary>
    public string Name => _model.Config.Name;
    /// <summary>True for a variational autoencoder, which has a prior to sample from.</summary>
    public bool IsVariational => _model is VariationalAutoencoder;
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

    /// <summary>Decoded samples: a VAE's codes drawn from its prior N(0, I); an AE, which has no prior, draws from a
    /// diagonal Gaussian with the mean and spread of its test codes (from metrics.json).</summary>
    public float[][] Sample(int count, long seed = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new Generator((ulong)seed);
        var z = randn(count, LatentDim, generator: rng);
        if (!IsVariational)
        {
            if (_codeMean is null || _codeStd is null)
                throw new LatentLabException($"{Name} is an AE without metrics.json: it has no prior to sample from; run 'latent evaluate' first");
            z = z * tensor(_codeStd.Select(s => (float)s).ToArray()) + tensor(_codeMean.Select(m => (float)m).ToArray());
        }
        return Rows(_model.Decode(z).sigmoid(), ImageShape.Pixels);
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
