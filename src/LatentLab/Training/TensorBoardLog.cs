using System.Buffers.Binary;
using Google.Protobuf;
using SkiaSharp;
using Tensorboard;

namespace LatentLab.Training;

/// <summary>TensorBoard event files in a run folder's <c>tensorboard/</c>: scalars per epoch and reconstruction images.</summary>
/// <remarks>The TFRecord framing TensorBoard reads: for each record, its length (uint64, little-endian), the masked
/// CRC-32C of those 8 bytes, the serialized <c>Event</c> (TorchSharp's generated TensorBoard protobuf classes), and the
/// masked CRC-32C of the event. Each process writes a file of its own (a resumed run adds one; TensorBoard reads them all).
/// Our own writer rather than TorchSharp's SummaryWriter, which records wall time in .NET ticks instead of seconds since
/// 1970 and reopens the file for every event.</remarks>
public sealed class TensorBoardLog : IDisposable
{
    public const string FolderName = "tensorboard";
    readonly FileStream _file;

    public string Path { get; }

    public TensorBoardLog(string runFolder)
    {
        var folder = System.IO.Path.Combine(runFolder, FolderName);
        Directory.CreateDirectory(folder);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Path = System.IO.Path.Combine(folder, $"events.out.tfevents.{now}.{Environment.MachineName}.{Environment.ProcessId}.latentlab");
        _file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        Write(new Event { FileVersion = "brain.Event:2", WallTime = WallTime() });
    }

    static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    public void Scalar(string tag, double value, long step)
    {
        var summary = new Summary();
        summary.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        Write(new Event { Step = step, WallTime = WallTime(), Summary = summary });
    }

    /// <summary>An image (PNG bytes) under <paramref name="tag"/>.</summary>
    public void Image(string tag, byte[] png, int width, int height, int channels, long step)
    {
        var summary = new Summary();
        summary.Value.Add(new Summary.Types.Value
        {
            Tag = tag,
            Image = new Summary.Types.Image { Width = width, Height = height, Colorspace = channels == 1 ? 1 : 3, EncodedImageString = ByteString.CopyFrom(png) },
        });
        Write(new Event { Step = step, WallTime = WallTime(), Summary = summary });
    }

    void Write(Event e)
    {
        var data = e.ToByteArray();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc32C(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(data));
        _file.Write(header);
        _file.Write(data);
        _file.Write(footer);
        _file.Flush(flushToDisk: false);
    }

    /// <summary>TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus 0xa282ead8.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
    {
        uint c = (uint)i;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): "123456789" gives 0xE3069283.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    /// <summary>Images (planar channels, values in [0, 1]) as one PNG: <paramref name="columns"/> per row.</summary>
    public static (byte[] Png, int Width, int Height) Tiles(float[] pixels, Data.ImageShape shape, int columns)
    {
        using var bitmap = Data.ImageGrid.Tiles(pixels, shape, columns);
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return (png.ToArray(), bitmap.Width, bitmap.Height);
    }

    public void Dispose() => _file.Dispose();
}
