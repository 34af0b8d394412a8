using ImageMagick;
using LatentLab.Data;
using SkiaSharp;

namespace LatentLab.Tests;

/// <summary>Folders of real image files that the tests write themselves: the committed MNIST slice as PNGs, and
/// coloured shapes in several formats and sizes.</summary>
public static class ImageFolders
{
    /// <summary>Every image of the MNIST slice (train and test) as a grey PNG in a subfolder named after its class.</summary>
    public static void WriteMnistSlice(string root)
    {
        using var data = Fixtures.MnistSlice();
        void Write(TorchSharp.torch.Tensor images, TorchSharp.torch.Tensor labels, string split)
        {
            var pixels = images.mul(255).round().to(TorchSharp.torch.ScalarType.Byte).data<byte>().ToArray();
            var classes = labels.data<long>().ToArray();
            for (int i = 0; i < classes.Length; i++)
            {
                var folder = Directory.CreateDirectory(Path.Combine(root, classes[i].ToString())).FullName;
                using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
                System.Runtime.InteropServices.Marshal.Copy(pixels, i * 784, bitmap.GetPixels(), 784);
                using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(folder, $"{split}-{i:D4}.png"), encoded.ToArray());
            }
        }
        Write(data.TrainImages, data.TrainLabels, "train");
        Write(data.TestImages, data.TestLabels, "test");
    }

    static readonly string[] Formats = ["png", "jpg", "webp", "bmp", "gif"];

    /// <summary>Three classes of coloured shapes (red discs, green squares, blue triangles) at varying positions, in
    /// turn PNG, JPEG, WebP, BMP and GIF, and of mixed sizes (most of them <paramref name="side"/> x <paramref name="side"/>),
    /// some with transparent backgrounds.</summary>
    public static void WriteColorShapes(string root, int perClass, int side = 32)
    {
        string[] classes = ["discs", "squares", "triangles"];
        SKColor[] colours = [new(220, 40, 40), new(40, 170, 60), new(40, 80, 220)];
        var random = new Random(7);
        for (int c = 0; c < classes.Length; c++)
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, classes[c])).FullName;
            for (int i = 0; i < perClass; i++)
            {
                int size = i % 4 == 3 ? side * 3 / 2 : side;           // every fourth image is larger
                bool transparent = i % 5 == 2;
                using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
                using (var canvas = new SKCanvas(bitmap))
                {
                    canvas.Clear(transparent ? SKColors.Transparent : new SKColor(240, 230, 200));
                    using var paint = new SKPaint { Color = colours[c], IsAntialias = true };
                    float r = size * (0.18f + 0.12f * (float)random.NextDouble());
                    float x = size * (0.3f + 0.4f * (float)random.NextDouble()), y = size * (0.3f + 0.4f * (float)random.NextDouble());
                    if (c == 0) canvas.DrawCircle(x, y, r, paint);
                    else if (c == 1) canvas.DrawRect(x - r, y - r, 2 * r, 2 * r, paint);
                    else
                    {
                        using var path = new SKPath();
                        path.MoveTo(x, y - r);
                        path.LineTo(x + r, y + r);
                        path.LineTo(x - r, y + r);
                        path.Close();
                        canvas.DrawPath(path, paint);
                    }
                }
                var format = Formats[(i + c) % Formats.Length];
                var target = Path.Combine(folder, $"{classes[c]}-{i:D3}.{format}");
                using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                if (format == "png") File.WriteAllBytes(target, png.ToArray());
                else if (format is "jpg" or "webp")
                {
                    using var encoded = bitmap.Encode(format == "jpg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Webp, 92);
                    File.WriteAllBytes(target, encoded.ToArray());
                }
                else
                {
                    using var image = new MagickImage(png.ToArray());
                    image.Write(target, format == "bmp" ? MagickFormat.Bmp : MagickFormat.Gif);
                }
            }
        }
    }
}
