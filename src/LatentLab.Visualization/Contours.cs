using LatentLab.Analysis;

namespace LatentLab.Visualization;

/// <summary>Contours of a density on a grid, by marching squares: the levels that enclose a given share of the grid's
/// mass (highest-density regions) and the line segments where a level crosses the grid's cells.</summary>
public static class Contours
{
    /// <summary>The density (relative to the grid's largest value) whose highest-density region holds
    /// <paramref name="share"/> of the mass on the grid.</summary>
    public static double Level(DensityGrid grid, double share)
    {
        var relative = Relative(grid);
        var sorted = relative.Cast<double>().OrderByDescending(v => v).ToArray();
        double total = sorted.Sum(), running = 0;
        foreach (var v in sorted) { running += v; if (running >= share * total) return v; }
        return sorted[^1];
    }

    /// <summary>The segments (x1, y1, x2, y2) where the relative density crosses <paramref name="level"/>.</summary>
    public static List<(double X1, double Y1, double X2, double Y2)> Segments(DensityGrid grid, double level)
    {
        var d = Relative(grid);
        var segments = new List<(double, double, double, double)>();
        int rows = grid.Y.Length, columns = grid.X.Length;
        var crossings = new List<(double X, double Y)>(4);
        for (int i = 0; i < rows - 1; i++)
            for (int j = 0; j < columns - 1; j++)
            {
                // Corners counter-clockwise from the bottom left; a crossing on each edge whose ends straddle the level.
                (int I, int J)[] corners = [(i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)];
                crossings.Clear();
                for (int e = 0; e < 4; e++)
                {
                    var (a0, b0) = corners[e];
                    var (a1, b1) = corners[(e + 1) % 4];
                    double v0 = d[a0, b0], v1 = d[a1, b1];
                    if (v0 >= level == v1 >= level) continue;
                    double t = (level - v0) / (v1 - v0);
                    crossings.Add((grid.X[b0] + t * (grid.X[b1] - grid.X[b0]), grid.Y[a0] + t * (grid.Y[a1] - grid.Y[a0])));
                }
                for (int c = 0; c + 1 < crossings.Count; c += 2)
                    segments.Add((crossings[c].X, crossings[c].Y, crossings[c + 1].X, crossings[c + 1].Y));
            }
        return segments;
    }

    static double[,] Relative(DensityGrid grid)
    {
        double max = double.NegativeInfinity;
        foreach (var v in grid.LogDensity) if (double.IsFinite(v)) max = Math.Max(max, v);
        int rows = grid.Y.Length, columns = grid.X.Length;
        var relative = new double[rows, columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) relative[i, j] = double.IsFinite(grid.LogDensity[i, j]) ? Math.Exp(grid.LogDensity[i, j] - max) : 0;
        return relative;
    }
}
