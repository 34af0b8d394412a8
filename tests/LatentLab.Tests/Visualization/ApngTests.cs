using System.Text.Json;
using LatentLab.Visualization;
using Microsoft.Playwright;
using SkiaSharp;

namespace LatentLab.Tests.Visualization;

/// <summary>The report's APNG copy of a GIF: decoded frame by frame by Chromium (WebCodecs' ImageDecoder, the
/// browser's own decoders), it shows the same pixels for the same time as the GIF.</summary>
public class ApngTests
{
    /// <summary>Frames like our animations': a still background, a marker that moves (so the changed rectangle holds
    /// unchanged pixels), an enlarged grey image that changes, one frame identical to the one before.</summary>
    static IEnumerable<SKBitmap> Frames(int count, bool manyColours)
    {
        for (int f = 0; f < count; f++)
        {
            var bitmap = Raster.Blank(180, 120);
            using var canvas = new SKCanvas(bitmap);
            using var paint = new SKPaint { IsAntialias = false };
            for (int i = 0; i < (manyColours ? 256 : 12); i++)
            {
                paint.Color = new SKColor((byte)(i * 37), (byte)(255 - i), (byte)(i * 11));
                canvas.DrawRect(i % 16 * 5, i / 16 * 5, 5, 5, paint);
            }
            int step = f == 3 ? 2 : f;   // frame 3 repeats frame 2
            paint.Color = SKColors.Red;
            canvas.DrawCircle(20 + 12 * step, 100 - 6 * step, 4, paint);
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                {
                    byte grey = (byte)((x * 31 + y * 17 + step * 40) % 256);
                    paint.Color = new SKColor(grey, grey, grey);
                    canvas.DrawRect(110 + 7 * x, 20 + 7 * y, 7, 7, paint);
                }
            yield return bitmap;
        }
    }

    [Fact]
    public async Task ChromiumShowsTheSameFramesAsTheGif()
    {
        var gif = Gif.Encode(Frames(6, manyColours: false), delayCentiseconds: 8, lastDelayCentiseconds: 150);
        using var temp = new TempDir();
        var gifPath = Path.Combine(temp.Path, "a.gif");
        File.WriteAllBytes(gifPath, gif);
        var apng = Apng.FromGif(gifPath);
        Assert.Equal(3, apng[25]);   // IHDR colour type: indexed, index 0 transparent

        var decoded = await DecodeInChromium(temp.Path, (gif, "image/gif"), (apng, "image/png"));
        AssertSameFrames(decoded[0], decoded[1]);
        Assert.Equal(6, decoded[1].Count);
        Assert.Equal(80_000, decoded[1][0].Duration);      // microseconds
        Assert.Equal(1_500_000, decoded[1][^1].Duration);
    }

    [Fact]
    public async Task MoreThan255ColoursAreStoredAsRgbaAndStillExact()
    {
        var frames = Frames(5, manyColours: true).Select(b => { using (b) return new Apng.Frame(b.GetPixelSpan().ToArray(), 10); }).ToList();
        var apng = Apng.Encode(frames, 180, 120);
        Assert.Equal(6, apng[25]);   // IHDR colour type: RGBA
        using var temp = new TempDir();
        var decoded = await DecodeInChromium(temp.Path, (apng, "image/png"));
        AssertSameFrames(frames.Select(f => new DecodedFrame(f.Rgba, 100_000)).ToList(), decoded[0]);
    }

    internal static void AssertSameFrames(List<DecodedFrame> expected, List<DecodedFrame> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Duration, actual[i].Duration);
            Assert.Equal(expected[i].Pixels.Length, actual[i].Pixels.Length);
            int differing = expected[i].Pixels.Where((v, j) => v != actual[i].Pixels[j]).Count();
            Assert.True(differing == 0, $"frame {i}: {differing} values differ");
        }
    }

    [Fact]
    public void TheCopyIsAValidPngWithItsChunksInOrder()
    {
        using var temp = new TempDir();
        var gifPath = Path.Combine(temp.Path, "a.gif");
        File.WriteAllBytes(gifPath, Gif.Encode(Frames(4, false), 8, 150));
        var apng = Apng.FromGif(gifPath);
        var chunks = new List<string>();
        int offset = 8;
        while (offset < apng.Length)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(apng.AsSpan(offset));
            var typed = apng.AsSpan(offset + 4, 4 + length);
            uint crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(apng.AsSpan(offset + 8 + length));
            Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(typed), crc);
            chunks.Add(System.Text.Encoding.ASCII.GetString(typed[..4]));
            offset += 12 + length;
        }
        Assert.Equal(["IHDR", "acTL", "PLTE", "tRNS", "fcTL", "IDAT", "fcTL", "fdAT", "fcTL", "fdAT", "fcTL", "fdAT", "IEND"], chunks);
        // SkiaSharp, which knows no APNG, still reads the first frame as a plain PNG.
        using var first = SKBitmap.Decode(apng);
        Assert.Equal((180, 120), (first.Width, first.Height));
    }

    internal sealed record DecodedFrame(byte[] Pixels, long Duration);

    /// <summary>Every frame of each image, as Chromium decodes it. ImageDecoder exists only in a secure context, which a
    /// file: page is and about:blank is not.</summary>
    internal static async Task<List<DecodedFrame>[]> DecodeInChromium(string folder, params (byte[] Bytes, string Type)[] images)
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: install Debian's chromium package (./test does when it can)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        var html = Path.Combine(folder, "decode.html");
        File.WriteAllText(html, "<!DOCTYPE html><html><body></body></html>");
        await page.GotoAsync(new Uri(html).AbsoluteUri);
        const string script = """
            async ([b64, type]) => {
              const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
              const decoder = new ImageDecoder({ data: bytes, type });
              await decoder.tracks.ready;
              const frames = [];
              for (let i = 0; i < decoder.tracks.selectedTrack.frameCount; i++) {
                const { image } = await decoder.decode({ frameIndex: i });
                const canvas = new OffscreenCanvas(image.displayWidth, image.displayHeight);
                const context = canvas.getContext("2d");
                context.drawImage(image, 0, 0);
                const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
                let text = "";
                for (let j = 0; j < pixels.length; j++) text += String.fromCharCode(pixels[j]);
                frames.push({ pixels: btoa(text), duration: image.duration });
                image.close();
              }
              return frames;
            }
            """;
        var result = new List<DecodedFrame>[images.Length];
        for (int i = 0; i < images.Length; i++)
        {
            var frames = await page.EvaluateAsync<JsonElement>(script, new object[] { Convert.ToBase64String(images[i].Bytes), images[i].Type });
            result[i] = frames.EnumerateArray().Select(f => new DecodedFrame(Convert.FromBase64String(f.GetProperty("pixels").GetString()!),
                (long)f.GetProperty("duration").GetDouble())).ToList();
        }
        return result;
    }
}
