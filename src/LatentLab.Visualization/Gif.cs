using ImageMagick;
using LatentLab.IO;
using SkiaSharp;

namespace LatentLab.Visualization;

/// <summary>Animated GIFs from bitmaps, encoded by ImageMagick (Magick.NET) and written atomically.</summary>
/// <remarks>Each frame after the first is handed to ImageMagick as just the rectangle that changed since the frame
/// before, placed by its page offset (what ImageMagick's own Optimize() finds, without its cost: 16 s for the
/// 96 frames of a sampling animation). All frames then share one 256-colour palette.</remarks>
public static class Gif
{
    /// <summary>Encodes <paramref name="frames"/> (all the same size), each shown for <paramref name="delayCentiseconds"/>
    /// except the last, which holds for <paramref name="lastDelayCentiseconds"/>; loops forever.</summary>
    public static byte[] Encode(IEnumerable<SKBitmap> frames, uint delayCentiseconds, uint lastDelayCentiseconds)
    {
        using var collection = new MagickImageCollection();
        byte[]? previous = null;
        int width = 0, height = 0;
        foreach (var frame in frames)
        {
            byte[] pixels;
            using (frame)
            {
                using var rgba = frame.ColorType == SKColorType.Rgba8888 ? null : frame.Copy(SKColorType.Rgba8888);
                var source = rgba ?? frame;
                if (previous is null) (width, height) = (source.Width, source.Height);
                else if (source.Width != width || source.Height != height)
                    throw new ArgumentException($"frame of {source.Width}x{source.Height} in an animation of {width}x{height}");
                pixels = source.GetPixelSpan().ToArray();
            }
            var (x, y, w, h) = previous is null ? (0, 0, width, height) : ChangedRectangle(previous, pixels, width, height);
            var image = new MagickImage();
            image.ReadPixels(Crop(pixels, width, x, y, w, h), new PixelReadSettings((uint)w, (uint)h, StorageType.Char, PixelMapping.RGBA));
            image.Page = new MagickGeometry(x, y, (uint)w, (uint)h);
            image.AnimationDelay = delayCentiseconds;
            image.GifDisposeMethod = GifDisposeMethod.None;
            collection.Add(image);
            previous = pixels;
        }
        if (collection.Count == 0) throw new ArgumentException("an animation needs at least one frame");
        collection[0].Page = new MagickGeometry(0, 0, (uint)width, (uint)height);
        collection[collection.Count - 1].AnimationDelay = lastDelayCentiseconds;
        collection[0].AnimationIterations = 0;
        collection.OptimizeTransparency();
        collection.Quantize(new QuantizeSettings { Colors = 256, DitherMethod = DitherMethod.No });
        using var stream = new MemoryStream();
        collection.Write(stream, MagickFormat.Gif);
        return stream.ToArray();
    }

    public static void Save(string path, IEnumerable<SKBitmap> frames, uint delayCentiseconds = 8, uint lastDelayCentiseconds = 150)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, Encode(frames, delayCentiseconds, lastDelayCentiseconds));
    }

    /// <summary>The smallest rectangle holding every pixel that differs (1 x 1 at the origin when none does).</summary>
    internal static (int X, int Y, int Width, int Height) ChangedRectangle(byte[] before, byte[] after, int width, int height)
    {
        var a = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(before);
        var b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(after);
        int left = width, right = -1, top = height, bottom = -1;
        for (int y = 0; y < height; y++)
        {
            var rowA = a.Slice(y * width, width);
            var rowB = b.Slice(y * width, width);
            if (rowA.SequenceEqual(rowB)) continue;
            int first = 0, last = width - 1;
            while (rowA[first] == rowB[first]) first++;
            while (rowA[last] == rowB[last]) last--;
            left = Math.Min(left, first);
            right = Math.Max(right, last);
            top = Math.Min(top, y);
            bottom = y;
        }
        return right < 0 ? (0, 0, 1, 1) : (left, top, right - left + 1, bottom - top + 1);
    }

    static byte[] Crop(byte[] pixels, int width, int x, int y, int w, int h)
    {
        if (x == 0 && w == width) return pixels.AsSpan(y * width * 4, h * width * 4).ToArray();
        var result = new byte[w * h * 4];
        for (int row = 0; row < h; row++)
            Array.Copy(pixels, ((y + row) * width + x) * 4, result, row * w * 4, w * 4);
        return result;
    }
}
