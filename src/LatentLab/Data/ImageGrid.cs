using SkiaSharp;

namespace LatentLab.Data;

/// <summary>Images laid out in a grid on one bitmap: what every picture of decoded images is made of (figures,
/// animations, TensorBoard's reconstructions).</summary>
public static class ImageGrid
{
    /// <summary>Images as one RGBA bitmap: <paramref name="pixels"/> holds <c>count</c> images of <paramref name="shape"/>
    /// (planar channels, values in [0, 1]; one channel is drawn grey), laid out row-major in <paramref name="columns"/>
    /// columns, each tile scaled by <paramref name="scale"/>, with <paramref name="gap"/> pixels of grey between tiles.</summary>
    public static SKBitmap Tiles(ReadOnlySpan<float> pixels, ImageShape shape, int columns, int scale = 1, int gap = 0)
    {
        int area = shape.Height * shape.Width, size = shape.Pixels;
        if (pixels.Length % size != 0) throw new ArgumentException("pixel count is not a whole number of images");
        int count = pixels.Length / size, rows = (count + columns - 1) / columns;
        int tileW = shape.Width * scale, tileH = shape.Height * scale;
        int width = columns * tileW + (columns + 1) * gap, height = rows * tileH + (rows + 1) * gap;
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var bytes = new byte[width * height * 4];
        for (int i = 0; i < bytes.Length; i += 4) (bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]) = ((byte)128, (byte)128, (byte)128, (byte)255);
        int green = shape.Channels == 3 ? area : 0, blue = shape.Channels == 3 ? 2 * area : 0;
        for (int i = 0; i < count; i++)
        {
            int x0 = gap + (i % columns) * (tileW + gap), y0 = gap + (i / columns) * (tileH + gap);
            var image = pixels.Slice(i * size, size);
            for (int y = 0; y < tileH; y++)
            for (int x = 0; x < tileW; x++)
            {
                int source = (y / scale) * shape.Width + x / scale, target = ((y0 + y) * width + x0 + x) * 4;
                bytes[target] = ToByte(image[source]);
                bytes[target + 1] = ToByte(image[green + source]);
                bytes[target + 2] = ToByte(image[blue + source]);
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return bitmap;
    }

    public static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value * 255f), 0f, 255f);

}
