namespace LatentLab.Data;

/// <summary>dSprites (Matthey, Higgins, Hassabis, Lerchner 2017), generated: 64 x 64 binary images of a square, an ellipse
/// or a heart at every combination of 6 scales, 40 orientations and 32 x 32 positions, 737,280 images in the original's
/// order (the last factor fastest), each with its five factors. No registry here ships the original, and it is
/// synthetic, so LatentLab renders it with the rasteriser below; the images are not the original's pixels (its shapes
/// were drawn by other code), the factors and their values are.</summary>
/// <remarks>
/// The rasteriser: a pixel is on when its centre lies inside the shape. A shape lives in its own frame [-1, 1]^2: the
/// square |u|, |v| &lt;= 1; the ellipse u^2 + (v / 0.5)^2 &lt;= 1; the heart (a^2 + b^2 - 1)^3 - a^2 b^3 &lt;= 0 with
/// a = 1.15 u, b = 1.15 v + 0.12 (the classic heart curve, its bounding box centred). The frame is scaled by
/// <see cref="HalfSize"/> x scale pixels, rotated counter-clockwise by the orientation, and centred at
/// (<see cref="Margin"/> + x (64 - 2 <see cref="Margin"/>), the same for y), y down the rows, so every shape at scale 1
/// touches no edge but the heart's and the square's corners when rotated at the extreme positions.
/// </remarks>
public static class Dsprites
{
    public const int Side = 64;
    public const int Pixels = Side * Side;
    /// <summary>Bytes per image in the packed file: one bit per pixel, row-major, the first pixel in the top bit.</summary>
    public const int PackedBytes = Pixels / 8;
    public const double HalfSize = 10;
    public const double Margin = 10;

    public static readonly IReadOnlyList<string> FactorNames = ["shape", "scale", "orientation", "position_x", "position_y"];
    public static readonly IReadOnlyList<string> ShapeNames = ["square", "ellipse", "heart"];
    /// <summary>Values per factor: 3 shapes, 6 scales, 40 orientations, 32 x positions, 32 y positions.</summary>
    public static readonly int[] Sizes = [3, 6, 40, 32, 32];
    public static readonly int Count = Sizes.Aggregate(1, (a, b) => a * b);

    /// <summary>The factor values of index i of a factor (the original's): shape 0, 1, 2; scale 0.5..1 in 6 steps;
    /// orientation 0..2 pi in 40 steps (both ends included, as in the original); positions 0..1 in 32 steps.</summary>
    public static double Value(int factor, int i) => factor switch
    {
        0 => i,
        1 => 0.5 + 0.1 * i,
        2 => 2 * Math.PI * i / 39,
        3 or 4 => i / 31.0,
        _ => throw new ArgumentOutOfRangeException(nameof(factor)),
    };

    /// <summary>The five factor indices of image <paramref name="index"/> in the product order.</summary>
    public static int[] FactorsOf(int index)
    {
        var factors = new int[Sizes.Length];
        for (int k = Sizes.Length - 1; k >= 0; k--)
        {
            factors[k] = index % Sizes[k];
            index /= Sizes[k];
        }
        return factors;
    }

    public static int IndexOf(IReadOnlyList<int> factors)
    {
        int index = 0;
        for (int k = 0; k < Sizes.Length; k++) index = index * Sizes[k] + factors[k];
        return index;
    }

    /// <summary>The image of factor indices <paramref name="factors"/>: 4096 pixels, 0 or 1, row-major.</summary>
    public static void Render(IReadOnlyList<int> factors, Span<byte> pixels)
    {
        pixels.Clear();
        int shape = factors[0];
        double h = HalfSize * Value(1, factors[1]), angle = Value(2, factors[2]);
        double cx = Margin + Value(3, factors[3]) * (Side - 2 * Margin), cy = Margin + Value(4, factors[4]) * (Side - 2 * Margin);
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        // Every shape lies within radius sqrt(2) of its frame's centre; only pixels that near are tested.
        double reach = h * Math.Sqrt(2) + 1;
        int rowFrom = Math.Max(0, (int)(cy - reach)), rowTo = Math.Min(Side - 1, (int)(cy + reach) + 1);
        int colFrom = Math.Max(0, (int)(cx - reach)), colTo = Math.Min(Side - 1, (int)(cx + reach) + 1);
        for (int row = rowFrom; row <= rowTo; row++)
            for (int col = colFrom; col <= colTo; col++)
            {
                // The pixel centre in the shape's frame: y up, the rotation undone, the scale divided out.
                double x = col + 0.5 - cx, y = -(row + 0.5 - cy);
                double u = (cos * x + sin * y) / h, v = (-sin * x + cos * y) / h;
                if (Inside(shape, u, v)) pixels[row * Side + col] = 1;
            }
    }

    static bool Inside(int shape, double u, double v)
    {
        switch (shape)
        {
            case 0: return Math.Abs(u) <= 1 && Math.Abs(v) <= 1;
            case 1: return u * u + 4 * v * v <= 1;
            case 2:
                double a = 1.15 * u, b = 1.15 * v + 0.12, r = a * a + b * b - 1;
                return r * r * r - a * a * b * b * b <= 0;
            default: throw new ArgumentOutOfRangeException(nameof(shape));
        }
    }

    /// <summary>Packs 4096 pixels into 512 bytes, the first pixel in the top bit of the first byte.</summary>
    public static void Pack(ReadOnlySpan<byte> pixels, Span<byte> packed)
    {
        packed.Clear();
        for (int p = 0; p < Pixels; p++)
            if (pixels[p] != 0) packed[p >> 3] |= (byte)(0x80 >> (p & 7));
    }

    /// <summary>512 packed bytes back to 4096 pixels, one byte (0 or 1) each.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, Span<byte> pixels)
    {
        for (int p = 0; p < Pixels; p++) pixels[p] = (byte)(packed[p >> 3] >> (7 - (p & 7)) & 1);
    }

    /// <summary>All 737,280 images packed in product order (377 MB), rendered on all cores; progress in images done.</summary>
    public static byte[] RenderAll(IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var all = new byte[(long)Count * PackedBytes];
        int done = 0;
        const int chunk = 4096;
        Parallel.For(0, (Count + chunk - 1) / chunk, new ParallelOptions { CancellationToken = cancel }, c =>
        {
            Span<byte> pixels = stackalloc byte[Pixels];
            int end = Math.Min(Count, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i++)
            {
                Render(FactorsOf(i), pixels);
                Pack(pixels, all.AsSpan(i * PackedBytes, PackedBytes));
            }
            progress?.Report(Interlocked.Add(ref done, end - c * chunk));
        });
        return all;
    }
}
