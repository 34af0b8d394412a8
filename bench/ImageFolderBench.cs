using System.Diagnostics;
using LatentLab.Data;
using SkiaSharp;
using static TorchSharp.torch;

/// <summary><c>--image-folder</c>: the 60,000 MNIST training images written as PNG files in class subfolders, then read
/// by <see cref="ImageFolder"/> twice: once decoding every file (no cache), once from the cache file.</summary>
static class ImageFolderBench
{
    public static void Run(Dataset mnist)
    {
        var root = Directory.CreateTempSubdirectory("latentlab-bench-folder-");
        try
        {
            var folder = Path.Combine(root.FullName, "mnist-png");
            var clock = Stopwatch.StartNew();
            var pixels = mnist.TrainImages.mul(255).round().to(ScalarType.Byte).data<byte>().ToArray();
            var labels = mnist.TrainLabels.data<long>().ToArray();
            for (int c = 0; c < 10; c++) Directory.CreateDirectory(Path.Combine(folder, c.ToString()));
            Parallel.For(0, labels.Length, i =>
            {
                using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
                System.Runtime.InteropServices.Marshal.Copy(pixels, i * 784, bitmap.GetPixels(), 784);
                using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(folder, labels[i].ToString(), $"{i:D5}.png"), png.ToArray());
            });
            Console.WriteLine($"wrote {labels.Length:N0} PNG files in {clock.Elapsed.TotalSeconds:F1} s");

            var data = Path.Combine(root.FullName, "data");
            foreach (var pass in new[] { "first read (decoding every file)", "second read (from the cache)" })
            {
                clock.Restart();
                using var set = ImageFolder.Load(folder, new ImageFolderOptions(), data);
                Console.WriteLine($"{pass}: {clock.Elapsed.TotalSeconds:F2} s, {set.TrainCount + set.TestCount:N0} images {set.Shape}");
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
