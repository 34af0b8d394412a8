using LatentLab.Data;
using LatentLab.Evaluation;
using LatentLab.Models;
using LatentLab.Models.Networks;
using static TorchSharp.torch;

namespace LatentLab.Visualization.Report;

/// <summary>What the report's latent explorer needs of a 2-d model: its decoder's layers, the image shape it decodes to,
/// and a sample of test codes.</summary>
/// <param name="Range">The plane shown: z1 from, z1 to, z2 from, z2 to.</param>
/// <param name="Prior">What the model samples from, drawn as contours under the plane; null for an AE without a fitted sampler.</param>
public sealed record ExplorerModel(string Name, IReadOnlyList<ExplorerLayer> Layers, ImageShape Image, float[] Points, byte[] Labels, double[] Range,
    ExplorerPrior? Prior = null)
{
    public const int MaxPoints = 5000, PriorGrid = 81;

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
        return new ExplorerModel(model.Config.Name, DecoderLayers(model), model.Config.Image,
            codes.to(ScalarType.Float32).data<float>().ToArray(),
            testLabels.narrow(0, 0, n).to(ScalarType.Byte).data<byte>().ToArray(),
            [x0 - padX, x1 + padX, y0 - padY, y1 + padY],
            model.Prior is { } prior ? ExplorerPrior.From(prior, [x0 - padX, x1 + padX, y0 - padY, y1 + padY], PriorGrid) : null);
    }

    /// <summary>The decoder as the page runs it, in order: Linear layers (weight [out, in] row-major, as PyTorch stores
    /// it), a reshape into feature maps, transposed convolutions (weight [in, out, k, k]); sigmoid after the last.</summary>
    public static IReadOnlyList<ExplorerLayer> DecoderLayers(Autoencoder model)
    {
        var parameters = model.named_parameters().Where(p => p.name.StartsWith("decoder.", StringComparison.Ordinal))
            .ToDictionary(p => p.name["decoder.".Length..], p => p.parameter);
        var config = model.Config;
        string unit = config.Activation.Name();
        List<ExplorerLayer> Chain(string prefix, string kind, bool reluAfterLast)
        {
            var indices = LayerChain.Positions(parameters.Keys, prefix);
            return indices.Select((i, position) =>
            {
                var w = parameters[$"{prefix}{i}.weight"];
                return new ExplorerLayer(kind, w.shape.Select(d => (int)d).ToArray(), w.data<float>().ToArray(),
                    parameters[$"{prefix}{i}.bias"].data<float>().ToArray(),
                    reluAfterLast || position < indices.Count - 1 ? unit : "none");
            }).ToList();
        }
        if (config.Arch == Architecture.Mlp) return Chain("", "linear", reluAfterLast: false);
        int factor = 1 << config.ConvChannels.Count;
        var reshape = new ExplorerLayer("reshape", [config.ConvChannels[^1], config.Image.Height / factor, config.Image.Width / factor], [], [], "none");
        return [.. Chain("dense.", "linear", reluAfterLast: true), reshape, .. Chain("deconv.", "deconv", reluAfterLast: false)];
    }
}

/// <summary>One step of the decoder in the page: "linear" (Shape [out, in]), "reshape" (Shape [C, H, W]) or "deconv"
/// (a 4x4 transposed convolution of stride 2 and padding 1, Shape [in, out, 4, 4]); after it <paramref name="Activation"/>:
/// "relu", "tanh" or "none".</summary>
public sealed record ExplorerLayer(string Kind, int[] Shape, float[] Weight, float[] Bias, string Activation);

/// <summary>The prior's density over the explorer's plane: <see cref="Density"/>[i * G + j] at z1 = range[0] + j h1,
/// z2 = range[2] + i h2 on a G x G grid (relative to its largest value), and the <see cref="Levels"/> whose contours
/// enclose <see cref="Shares"/> of the density's mass within the plane (highest-density regions).</summary>
public sealed record ExplorerPrior(string Description, int Grid, float[] Density, double[] Levels, double[] Shares)
{
    public static readonly double[] DefaultShares = [0.2, 0.4, 0.6, 0.8];

    public static ExplorerPrior From(LatentLab.Models.Priors.Prior prior, double[] range, int grid)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (xs, ys, z) = LatentLab.Analysis.DensityGrid.Mesh(range[0], range[1], range[2], range[3], grid);
        var logDensity = prior.LogDensity(z.to(ScalarType.Float32)).to(ScalarType.Float64);
        var relative = logDensity - logDensity.max();
        var plane = LatentLab.Analysis.DensityGrid.From(xs, ys, relative);
        var levels = DefaultShares.Select(share => Contours.Level(plane, share)).ToArray();
        return new ExplorerPrior(prior.Description, grid, relative.exp().to(ScalarType.Float32).data<float>().ToArray(), levels, DefaultShares);
    }
}
