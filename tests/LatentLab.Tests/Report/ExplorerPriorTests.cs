using LatentLab.Models.Priors;
using LatentLab.Visualization.Report;

namespace LatentLab.Tests.Report;

public class ExplorerPriorTests
{
    [Fact]
    public void TheContourLevelsOfTheStandardNormalAreTheClosedForm()
    {
        // For N(0, I) in 2-d the mass within radius r is 1 - exp(-r^2 / 2) and the density there, relative to its peak,
        // is exp(-r^2 / 2): the highest-density region holding a share s of the mass ends where the relative density is
        // 1 - s. On [-6, 6]^2 (mass outside 1e-8) with 241 points a side, the level is found to within the density's
        // change over one grid step at the contour (at most 0.06 x 0.61 = 0.04 relative, at r = 1) and much less in
        // the sum, 2 %.
        using var prior = new StandardNormalPrior(2);
        var p = ExplorerPrior.From(prior, [-6, 6, -6, 6], 241);
        Assert.Equal(241 * 241, p.Density.Length);
        Assert.Equal(1f, p.Density.Max());
        for (int i = 0; i < p.Shares.Length; i++)
            Assert.True(Math.Abs(p.Levels[i] - (1 - p.Shares[i])) < 0.02, $"share {p.Shares[i]}: level {p.Levels[i]}, closed form {1 - p.Shares[i]}");
        // The grid's layout: row i is z2's i-th value from the bottom, column j is z1's j-th; N(0, I) peaks at the centre.
        Assert.Equal(120 * 241 + 120, Array.IndexOf(p.Density, p.Density.Max()));
    }
}
