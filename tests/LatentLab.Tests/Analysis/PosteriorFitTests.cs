using LatentLab.Analysis;
using LatentLab.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentLab.Tests.Analysis;

public class PosteriorFitTests(ITestOutputHelper output)
{
    [Fact]
    public void TheThreeFiguresAreOrderedAndTheTruePosteriorsIntegrateToOne()
    {
        using var data = Fixtures.MnistSlice();
        using var dir = new TempDir();
        using var trainer = new LatentLab.Training.Trainer(ModelRegistry.Get("vae_2d"), new LatentLab.Training.TrainingConfig(Epochs: 3, BatchSize: 64, Seed: 1),
            data, new LatentLab.Storage.RunFolder(dir.Path), tensorBoard: false);
        trainer.Train(false, null, CancellationToken.None);
        var labels = data.TestLabels.to(ScalarType.Int32).data<int>().ToArray();
        var fit = PosteriorFit.Compute(trainer.Model, data.TestImages, labels, seed: 0, count: 30, k: 1000, shown: 3);

        Assert.Equal(30, fit.Rows.Length);
        Assert.Equal(3, fit.Shown.Length);
        foreach (var r in fit.Rows)
        {
            output.WriteLine($"#{r.Index}: exact {r.Exact:F3} ({r.ExactError:E1}), k = 1000 {r.Estimate:F3} ± {r.EstimateSe:F3}, ELBO {r.Elbo:F3}");
            // mean(log w) <= log mean(w) for the same draws (Jensen): the ELBO estimate never exceeds the bound's.
            Assert.True(r.Elbo <= r.Estimate + 1e-9, $"#{r.Index}: ELBO {r.Elbo} above the estimate {r.Estimate}");
            // The estimate is a lower bound in expectation: above the exact value only by its Monte-Carlo error.
            Assert.True(r.Estimate <= r.Exact + 4 * r.EstimateSe + r.ExactError + 1e-3, $"#{r.Index}: estimate {r.Estimate} above exact {r.Exact}");
        }
        // The images shown are those with the largest gaps, largest first.
        var gaps = fit.Rows.Select(r => r.EstimateGap).OrderByDescending(g => g).Take(3).ToArray();
        Assert.Equal(gaps, fit.Shown.Select(s => s.Row.EstimateGap).ToArray());
        foreach (var s in fit.Shown)
        {
            // p(z|x) = p(x|z) p(z) / p(x) with p(x) from the plane integral: its mass over the picture's box, which holds
            // the 99.9 % region, is 1 up to that 0.1 %, the grid's rule (161 points over a box a few posterior widths
            // wide: well under 1 %) and the integral's own error.
            var g = s.TruePosterior;
            double cell = (g.X[1] - g.X[0]) * (g.Y[1] - g.Y[0]), mass = 0;
            foreach (var v in g.LogDensity) mass += Math.Exp(v) * cell;
            output.WriteLine($"shown #{s.Row.Index}: mass {mass:F4}, {s.Modes} mode(s), box [{g.X[0]:F2}, {g.X[^1]:F2}] x [{g.Y[0]:F2}, {g.Y[^1]:F2}]");
            Assert.InRange(mass, 0.985, 1.01);
            Assert.Equal(data.Shape.Pixels, s.Pixels.Length);
        }
    }

    [Fact]
    public void ModesAreCountedOnAGrid()
    {
        var xs = Enumerable.Range(0, 81).Select(i => -4 + 0.1 * i).ToArray();
        DensityGrid Grid(Func<double, double, double> density)
        {
            var values = new double[xs.Length, xs.Length];
            for (int i = 0; i < xs.Length; i++)
                for (int j = 0; j < xs.Length; j++) values[i, j] = Math.Log(density(xs[j], xs[i]) + 1e-300);
            return new DensityGrid(xs, xs, values);
        }
        double Bump(double x, double y, double cx, double cy, double s) => Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * s * s));
        Assert.Equal(1, PosteriorFit.CountModes(Grid((x, y) => Bump(x, y, 0.3, -0.2, 0.5))));
        Assert.Equal(2, PosteriorFit.CountModes(Grid((x, y) => Bump(x, y, -2, 0, 0.4) + 0.5 * Bump(x, y, 2, 1, 0.4))));
        // A third bump below 1 % of the highest peak is not a mode worth showing.
        Assert.Equal(2, PosteriorFit.CountModes(Grid((x, y) => Bump(x, y, -2, 0, 0.4) + 0.5 * Bump(x, y, 2, 1, 0.4) + 0.005 * Bump(x, y, 0, -3, 0.3))));
    }
}
