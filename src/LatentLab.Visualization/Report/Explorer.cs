using LatentLab.Evaluation;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Visualization.Report;

/// <summary>What the report's latent explorer needs of a 2-d model: its decoder's layers and a sample of test codes.</summary>
/// <param name="Range">The plane shown: z1 from, z1 to, z2 from, z2 to.</param>
public sealed record ExplorerModel(string Name, IReadOnlyList<ExplorerLayer> Layers, float[] Points, byte[] Labels, double[] Range)
{
    public const int MaxPoints = 5000;

    public static ExplorerModel From(Autoencoder model, Tensor testImages, Tensor testLabels)
    {
        if (model.Config.LatentDim != 2) throw new ArgumentException("the explorer shows 2-d latent spaces only");
        using var scope = NewDisposeScope();
        long n = Math.Min(MaxPoints, testImages.shape[0]);
        var codes = Evaluator.EncodeAll(model, testImages.narrow(0, 0, n));
        var xs = codes.select(1, 0).data<double>().ToArray();
        var ys = codes.select(1, 1).data<double>().ToArray();
        double x0 = Figures.Quantile(xs, 0.005), x1 = Figures.Quantile(xs, 0.995);
        double y0 = Figures.Quantile(ys, 0.005), y1 = Figures.Quantile(ys, 0.995);
        double padX = 0.08 * Math.Max(x1 - x0, 1e-3), padY = 0.08 * Math.Max(y1 - y0, 1e-3);
        return new ExplorerModel(model.Config.Name, DecoderLayers(model),
            codes.to(ScalarType.Float32).data<float>().ToArray(),
            testLabels.narrow(0, 0, n).to(ScalarType.Byte).data<byte>().ToArray(),
            [x0 - padX, x1 + padX, y0 - padY, y1 + padY]);
    }

    /// <summary>The decoder's Linear layers in order (weight [out, in] row-major, as PyTorch stores it).</summary>
    public static IReadOnlyList<ExplorerLayer> DecoderLayers(Autoencoder model)
    {
        var parameters = model.named_parameters().Where(p => p.name.StartsWith("decoder.", StringComparison.Ordinal))
            .ToDictionary(p => p.name, p => p.parameter);
        var indices = parameters.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal))
            .Select(k => int.Parse(k.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        return indices.Select(i =>
        {
            var w = parameters[$"decoder.{i}.weight"];
            return new ExplorerLayer((int)w.shape[0], (int)w.shape[1], w.data<float>().ToArray(), parameters[$"decoder.{i}.bias"].data<float>().ToArray());
        }).ToList();
    }
}

public sealed record ExplorerLayer(int Rows, int Cols, float[] Weight, float[] Bias);
