using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ImageMagick;

namespace LatentLab.Visualization;

/// <summary>Animated PNG (APNG): the report's copy of each GIF, the same pixels and timing in about a third of the
/// bytes. Every browser plays an APNG in an &lt;img&gt;; deflate with PNG's row filters takes the flat areas and the
/// enlarged (repeated-row) digit images of our animations far better than GIF's LZW.</summary>
/// <remarks>Each frame after the first is the rectangle that changed, blended over the one before; inside it the
/// pixels that did not change are transparent, so they cost almost nothing. A picture of at most 255 colours (a GIF
/// has 256 at most) is stored as indexed colour with index 0 transparent, so the copy is lossless; more colours fall
/// back to RGBA. Specification: https://wiki.mozilla.org/APNG_Specification.</remarks>
public static class Apng
{
    /// <summary>One frame: RGBA pixels (opaque), the size shared by all frames, and how long it shows.</summary>
    public sealed record Frame(byte[] Rgba, uint DelayCentiseconds);

    /// <summary>The frames of a GIF file as ImageMagick composes them (coalesced), with their delays.</summary>
    public static (List<Frame> Frames, int Width, int Height) ReadGif(string path)
    {
        using var collection = new MagickImageCollection(path);
        collection.Coalesce();
        var frames = new List<Frame>();
        foreach (var image in collection)
        {
            var rgba = image.GetPixels().ToByteArray(PixelMapping.RGBA)
                       ?? throw new InvalidDataException($"{path}: a frame without pixels");
            for (int i = 3; i < rgba.Length; i += 4) rgba[i] = 255;   // our GIFs are opaque; a GIF has no partial alpha
            frames.Add(new Frame(rgba, (uint)image.AnimationDelay));
        }
        if (frames.Count == 0) throw new InvalidDataException($"{path}: no frames");
        return (frames, (int)collection[0].Width, (int)collection[0].Height);
    }

    /// <summary>The APNG of a GIF file, pixel for pixel.</summary>
    public static byte[] FromGif(string path)
    {
        var (frames, width, height) = ReadGif(path);
        return Encode(frames, width, height);
    }

    /// <summary>Encodes frames of <paramref name="width"/> x <paramref name="height"/> pixels; loops forever.</summary>
    public static byte[] Encode(IReadOnlyList<Frame> frames, int width, int height)
    {
        if (frames.Count == 0) throw new ArgumentException("an animation needs at least one frame");
        foreach (var f in frames)
            if (f.Rgba.Length != 4 * width * height) throw new ArgumentException("every frame must be width x height RGBA");
        var palette = Palette(frames);   // null: too many colours for indexed

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = 8;                                  // bit depth
        header[9] = (byte)(palette is null ? 6 : 3);    // RGBA or indexed
        Chunk(png, "IHDR", header);
        var animation = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(animation, (uint)frames.Count);
        Chunk(png, "acTL", animation);                  // plays: 0 = forever
        if (palette is not null)
        {
            var plte = new byte[3 * (palette.Count + 1)];
            int k = 1;
            foreach (var (colour, _) in palette.OrderBy(p => p.Value))
            {
                plte[3 * k] = (byte)colour; plte[3 * k + 1] = (byte)(colour >> 8); plte[3 * k + 2] = (byte)(colour >> 16);
                k++;
            }
            Chunk(png, "PLTE", plte);
            Chunk(png, "tRNS", [0]);                    // index 0 transparent, the rest opaque
        }

        uint sequence = 0;
        byte[]? previous = null;
        for (int f = 0; f < frames.Count; f++)
        {
            var pixels = frames[f].Rgba;
            var (x, y, w, h) = previous is null ? (0, 0, width, height) : Gif.ChangedRectangle(previous, pixels, width, height);
            var control = new byte[26];
            BinaryPrimitives.WriteUInt32BigEndian(control, sequence++);
            BinaryPrimitives.WriteUInt32BigEndian(control.AsSpan(4), (uint)w);
            BinaryPrimitives.WriteUInt32BigEndian(control.AsSpan(8), (uint)h);
            BinaryPrimitives.WriteUInt32BigEndian(control.AsSpan(12), (uint)x);
            BinaryPrimitives.WriteUInt32BigEndian(control.AsSpan(16), (uint)y);
            BinaryPrimitives.WriteUInt16BigEndian(control.AsSpan(20), (ushort)Math.Min(frames[f].DelayCentiseconds, ushort.MaxValue));
            BinaryPrimitives.WriteUInt16BigEndian(control.AsSpan(22), 100);
            control[24] = 0;                                   // dispose: none (the next frame draws over this one)
            control[25] = (byte)(previous is null ? 0 : 1);    // blend: source for the first frame, over for the rest
            Chunk(png, "fcTL", control);

            var data = Compress(Rows(pixels, previous, width, x, y, w, h, palette));
            if (previous is null) Chunk(png, "IDAT", data);
            else
            {
                var fdat = new byte[4 + data.Length];
                BinaryPrimitives.WriteUInt32BigEndian(fdat, sequence++);
                data.CopyTo(fdat, 4);
                Chunk(png, "fdAT", fdat);
            }
            previous = pixels;
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Each distinct colour (as 0xBBGGRR) with its palette index, 1..255; null when there are more.</summary>
    static Dictionary<uint, byte>? Palette(IReadOnlyList<Frame> frames)
    {
        var palette = new Dictionary<uint, byte>();
        uint last = uint.MaxValue;
        foreach (var frame in frames)
        {
            var colours = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(frame.Rgba);
            foreach (uint c in colours)
            {
                if (c == last) continue;
                last = c;
                uint rgb = c & 0xFFFFFF;
                if (palette.ContainsKey(rgb)) continue;
                if (palette.Count == 255) return null;
                palette[rgb] = (byte)(palette.Count + 1);
            }
        }
        return palette;
    }

    /// <summary>The rectangle's scanlines, each filtered (for RGBA, the filter that makes the row's bytes
    /// smallest in absolute value, PNG's usual heuristic); pixels equal to the frame before are transparent.</summary>
    static byte[] Rows(byte[] pixels, byte[]? previous, int width, int x, int y, int w, int h, Dictionary<uint, byte>? palette)
    {
        int bpp = palette is null ? 4 : 1;
        int stride = w * bpp;
        var output = new byte[h * (stride + 1)];
        var prior = new byte[stride];
        var raw = new byte[stride];
        var candidate = new byte[stride];
        var best = new byte[stride];
        var now = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(pixels);
        var before = previous is null ? default : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(previous);
        for (int row = 0; row < h; row++)
        {
            int start = (y + row) * width + x;
            for (int i = 0; i < w; i++)
            {
                uint c = now[start + i];
                bool same = previous is not null && before[start + i] == c;
                if (palette is null)
                {
                    if (same) c = 0;
                    BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(4 * i), c);
                }
                else raw[i] = same ? (byte)0 : palette[c & 0xFFFFFF];
            }
            long bestScore = long.MaxValue;
            byte bestFilter = 0;
            // Indexed rows stay unfiltered (filters predict intensities, and palette indices are not intensities:
            // measured on our animations, unfiltered rows deflate 15-20% smaller); RGBA rows take the best.
            byte lastFilter = (byte)(palette is null ? 4 : 0);
            for (byte filter = 0; filter <= lastFilter; filter++)
            {
                long score = Filter(filter, raw, prior, bpp, candidate);
                if (score < bestScore) { bestScore = score; bestFilter = filter; candidate.CopyTo(best, 0); }
            }
            int o = row * (stride + 1);
            output[o] = bestFilter;
            best.CopyTo(output, o + 1);
            (prior, raw) = (raw, prior);
        }
        return output;
    }

    static long Filter(byte filter, byte[] raw, byte[] prior, int bpp, byte[] result)
    {
        long score = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            int a = i >= bpp ? raw[i - bpp] : 0, b = prior[i], c = i >= bpp ? prior[i - bpp] : 0;
            int predicted = filter switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            byte value = (byte)(raw[i] - predicted);
            result[i] = value;
            score += value < 128 ? value : 256 - value;
        }
        return score;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    static byte[] Compress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true)) zlib.Write(data);
        return output.ToArray();
    }

    static void Chunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        png.Write(word);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed.AsSpan(4));
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>PNG's CRC-32 (ISO 3309, the same as zip's).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFF;
    }
}
