using LatentLab.IO;
using ScottPlot;
using SkiaSharp;

namespace LatentLab.Visualization;

/// <summary>Pixels: plots rendered onto bitmaps, grids of digit images, PNG files written atomically.</summary>
public static class Raster
{
    /// <summary>A white bitmap of the given size.</summary>
    public static SKBitmap Blank(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        return bitmap;
    }

    /// <summary>Renders <paramref name="plot"/> into the rectangle of <paramref name="canvas"/>.</summary>
    public static void Draw(SKCanvas canvas, Plot plot, SKRect rect)
    {
        canvas.Save();
        canvas.ClipRect(rect);
        plot.Render(canvas, new PixelRect(rect.Left, rect.Right, rect.Bottom, rect.Top));
        canvas.Restore();
    }

    /// <summary>A plot on its own bitmap.</summary>
    public static SKBitmap Render(Plot plot, int width, int height)
    {
        var bitmap = Blank(width, height);
        using var canvas = new SKCanvas(bitmap);
        Draw(canvas, plot, new SKRect(0, 0, width, height));
        return bitmap;
    }

    /// <summary>Digit images as one grayscale bitmap: <paramref name="pixels"/> holds <c>count</c> images of
    /// side x side values in [0, 1] (white strokes on black, as MNIST stores them), laid out row-major in
    /// <paramref name="columns"/> columns, each tile scaled by <paramref name="scale"/>, with <paramref name="gap"/>
    /// pixels of grey between tiles.</summary>
    public static SKBitmap Tiles(ReadOnlySpan<float> pixels, int side, int columns, int scale = 1, int gap = 0)
    {
        int area = side * side;
        if (pixels.Length % area != 0) throw new ArgumentException("pixel count is not a whole number of images");
        int count = pixels.Length / area, rows = (count + columns - 1) / columns, tile = side * scale;
        int width = columns * tile + (columns + 1) * gap, height = rows * tile + (rows + 1) * gap;
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var bytes = new byte[width * height];
        Array.Fill(bytes, (byte)128);
        for (int i = 0; i < count; i++)
        {
            int x0 = gap + (i % columns) * (tile + gap), y0 = gap + (i / columns) * (tile + gap);
            var image = pixels.Slice(i * area, area);
            for (int y = 0; y < tile; y++)
            for (int x = 0; x < tile; x++)
                bytes[(y0 + y) * width + x0 + x] = ToByte(image[(y / scale) * side + x / scale]);
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return bitmap;
    }

    /// <summary>Tiles as intensities for a ScottPlot heatmap (row 0 on top), 0 between tiles shown as mid grey.</summary>
    public static double[,] TileIntensities(ReadOnlySpan<float> pixels, int side, int columns, int gap = 0)
    {
        int area = side * side, count = pixels.Length / area, rows = (count + columns - 1) / columns;
        int width = columns * side + (columns + 1) * gap, height = rows * side + (rows + 1) * gap;
        var grid = new double[height, width];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            grid[y, x] = 0.5;
        for (int i = 0; i < count; i++)
        {
            int x0 = gap + (i % columns) * (side + gap), y0 = gap + (i / columns) * (side + gap);
            for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                grid[y0 + y, x0 + x] = Math.Clamp(pixels[i * area + y * side + x], 0f, 1f);
        }
        return grid;
    }

    public static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value * 255f), 0f, 255f);

    public static byte[] EncodePng(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes a bitmap as PNG through a temporary file and a rename.</summary>
    public static void SavePng(SKBitmap bitmap, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, EncodePng(bitmap));
    }

    /// <summary>Draws <paramref name="text"/> centred horizontally at baseline <paramref name="y"/>.</summary>
    public static void CenteredText(SKCanvas canvas, string text, float centerX, float y, SKFont font, SKColor? color = null)
    {
        using var paint = new SKPaint { Color = color ?? SKColors.Black, IsAntialias = true };
        canvas.DrawText(text, centerX, y, SKTextAlign.Center, font, paint);
    }
}
