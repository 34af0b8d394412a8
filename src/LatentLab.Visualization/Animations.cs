using LatentLab.Data;
using ScottPlot;
using SkiaSharp;

namespace LatentLab.Visualization;

/// <summary>The frames of the three animations; <see cref="Gif"/> encodes them. Frames are produced lazily, one at a time.</summary>
public static class Animations
{
    /// <summary>Left: the latent plane (<paramref name="plane"/>, already titled) with a marker moving along
    /// <paramref name="path"/>; right: the image decoded at each point, <paramref name="images"/>[i], with its caption.</summary>
    public static IEnumerable<SKBitmap> Sampling(Plot plane, IReadOnlyList<Coordinates> path, IReadOnlyList<float[]> images, ImageShape shape, IReadOnlyList<string> captions)
    {
        if (path.Count != images.Count || path.Count != captions.Count) throw new ArgumentException("one path point, image and caption per frame");
        const int width = 1040, height = 600, plotWidth = 660;
        int scale = Math.Max(1, 280 / Math.Max(shape.Width, shape.Height)), tile = shape.Width * scale, tileHeight = shape.Height * scale;
        using var background = Raster.Blank(width, height);
        using (var canvas = new SKCanvas(background))
        {
            Raster.Draw(canvas, plane, new SKRect(0, 0, plotWidth, height));
            using var font = Theme.Font(Theme.LabelSize, bold: true);
            Raster.CenteredText(canvas, "decoded image", plotWidth + (width - plotWidth) / 2f, 110, font);
        }
        // Pixel positions are known once the plane has been laid out by the render above.
        var pixels = path.Select(plane.GetPixel).ToArray();
        float tileLeft = plotWidth + (width - plotWidth - tile) / 2f, tileTop = 130;

        for (int i = 0; i < path.Count; i++)
        {
            var frame = background.Copy();
            using var canvas = new SKCanvas(frame);
            using (var trail = new SKPaint { Color = new SKColor(0, 0, 0, 150), StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke })
                for (int j = Math.Max(1, i - 15); j <= i; j++)
                    canvas.DrawLine(pixels[j - 1].X, pixels[j - 1].Y, pixels[j].X, pixels[j].Y, trail);
            using (var ring = new SKPaint { Color = SKColors.Black, StrokeWidth = 3, IsAntialias = true, Style = SKPaintStyle.Stroke })
            using (var dot = new SKPaint { Color = SKColors.Red, IsAntialias = true })
            {
                canvas.DrawCircle(pixels[i].X, pixels[i].Y, 9, dot);
                canvas.DrawCircle(pixels[i].X, pixels[i].Y, 9, ring);
            }
            using (var image = ImageGrid.Tiles(images[i], shape, columns: 1, scale: scale))
                canvas.DrawBitmap(image, tileLeft, tileTop);
            using (var font = Theme.Font(Theme.TickSize + 1))
                Raster.CenteredText(canvas, captions[i], plotWidth + (width - plotWidth) / 2f, tileTop + tileHeight + 34, font);
            yield return frame;
        }
    }

    /// <summary>One row per pair: the original start image, the image decoded at (1 - t) z_a + t z_b, the original end image.
    /// <paramref name="decoded"/>[frame][pair] are the decoded images; <paramref name="t"/>[frame] the mixing weights.</summary>
    public static IEnumerable<SKBitmap> Interpolation(string title, IReadOnlyList<float[]> starts, IReadOnlyList<float[]> ends,
        IReadOnlyList<string> pairLabels, IReadOnlyList<float[][]> decoded, IReadOnlyList<double> t, ImageShape shape)
    {
        const int header = 120, rowGap = 22, width = 720;
        int scale = Math.Max(1, 112 / Math.Max(shape.Width, shape.Height)), tile = shape.Width * scale, tileHeight = shape.Height * scale;
        int pairs = starts.Count, height = header + pairs * (tileHeight + rowGap) + 50;
        float[] columns = [150, 150 + tile + 90, 150 + 2 * (tile + 90)];
        using var background = Raster.Blank(width, height);
        using (var canvas = new SKCanvas(background))
        {
            using var titleFont = Theme.Font(Theme.TitleSize, bold: true);
            using var font = Theme.Font(Theme.TickSize + 1);
            Raster.CenteredText(canvas, title, width / 2f, 36, titleFont);
            Raster.CenteredText(canvas, "test image a", columns[0] + tile / 2f, header - 16, font);
            Raster.CenteredText(canvas, "decode((1-t) z_a + t z_b)", columns[1] + tile / 2f, header - 16, font);
            Raster.CenteredText(canvas, "test image b", columns[2] + tile / 2f, header - 16, font);
            for (int p = 0; p < pairs; p++)
            {
                float top = header + p * (tileHeight + rowGap);
                using var a = ImageGrid.Tiles(starts[p], shape, 1, scale);
                using var b = ImageGrid.Tiles(ends[p], shape, 1, scale);
                canvas.DrawBitmap(a, columns[0], top);
                canvas.DrawBitmap(b, columns[2], top);
                using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
                canvas.DrawText(pairLabels[p], 20, top + tileHeight / 2f + 6, SKTextAlign.Left, font, paint);
            }
        }
        for (int f = 0; f < decoded.Count; f++)
        {
            var frame = background.Copy();
            using var canvas = new SKCanvas(frame);
            for (int p = 0; p < pairs; p++)
            {
                using var image = ImageGrid.Tiles(decoded[f][p], shape, 1, scale);
                canvas.DrawBitmap(image, columns[1], header + p * (tileHeight + rowGap));
            }
            // A bar that fills with t.
            float barTop = height - 36, barLeft = columns[0], barRight = columns[2] + tile;
            using (var outline = new SKPaint { Color = SKColors.Gray, Style = SKPaintStyle.Stroke, StrokeWidth = 1.5f })
            using (var fill = new SKPaint { Color = new SKColor(31, 119, 180) })
            {
                canvas.DrawRect(barLeft, barTop, (float)((barRight - barLeft) * t[f]), 14, fill);
                canvas.DrawRect(barLeft, barTop, barRight - barLeft, 14, outline);
            }
            using (var font = Theme.Font(Theme.TickSize))
            using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
                canvas.DrawText($"t = {t[f]:0.00}", barLeft - 14, barTop + 12, SKTextAlign.Right, font, paint);
            yield return frame;
        }
    }

    /// <summary>The snapshot codes after each epoch, with <paramref name="tweens"/> interpolated frames between
    /// consecutive epochs, on fixed axes so the movement is real.</summary>
    public static IEnumerable<SKBitmap> Evolution(string modelName, IReadOnlyList<(int Epoch, double[] X, double[] Y)> snapshots,
        int[] labels, IReadOnlyList<string> classNames, int tweens, int finalEpochs)
    {
        var (x0, x1, y0, y1) = EvolutionLimits(snapshots);
        for (int s = 0; s < snapshots.Count; s++)
        {
            int steps = s == snapshots.Count - 1 ? 1 : tweens + 1;
            for (int k = 0; k < steps; k++)
            {
                double w = (double)k / steps;
                var from = snapshots[s];
                var to = s + 1 < snapshots.Count ? snapshots[s + 1] : from;
                var xs = from.X.Select((x, i) => (1 - w) * x + w * to.X[i]).ToArray();
                var ys = from.Y.Select((y, i) => (1 - w) * y + w * to.Y[i]).ToArray();
                string when = from.Epoch == 0 && k == 0 ? "before training" : $"epoch {from.Epoch + w:0.0} of {finalEpochs}";
                var plot = Figures.Scatter($"{modelName}: test latents, {when}", "z1", "z2",
                    new LabelledPoints(xs, ys, labels, classNames), markerSize: 4);
                plot.Axes.SetLimits(x0, x1, y0, y1);
                yield return Raster.Render(plot, EvolutionWidth, EvolutionHeight);
            }
        }
    }

    public const int EvolutionWidth = 820, EvolutionHeight = 700;

    /// <summary>The plane every frame of the evolution shows: where 99.6% of all snapshot codes lie, plus a margin.</summary>
    public static (double X0, double X1, double Y0, double Y1) EvolutionLimits(IReadOnlyList<(int Epoch, double[] X, double[] Y)> snapshots)
    {
        var allX = snapshots.SelectMany(s => s.X).ToArray();
        var allY = snapshots.SelectMany(s => s.Y).ToArray();
        double x0 = Figures.Quantile(allX, 0.002), x1 = Figures.Quantile(allX, 0.998);
        double y0 = Figures.Quantile(allY, 0.002), y1 = Figures.Quantile(allY, 0.998);
        double padX = 0.06 * Math.Max(x1 - x0, 1e-6), padY = 0.06 * Math.Max(y1 - y0, 1e-6);
        return (x0 - padX, x1 + padX, y0 - padY, y1 + padY);
    }

    /// <summary>Frames drawn between two snapshots: about 45 frames in all, whatever the number of epochs (each frame
    /// redraws thousands of points, so the frame count is what the GIF's size follows).</summary>
    public static int EvolutionTweens(int snapshotCount) => Math.Clamp((int)Math.Ceiling(45.0 / Math.Max(1, snapshotCount - 1)) - 1, 0, 9);

    /// <summary>Frame delays of the evolution, in centiseconds: each frame, and the last (held).</summary>
    public const uint EvolutionDelay = 8, EvolutionLastDelay = 200;
}
