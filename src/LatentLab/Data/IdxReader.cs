using System.Buffers.Binary;
using System.IO.Compression;

namespace LatentLab.Data;

/// <summary>An n-dimensional array of unsigned bytes read from an IDX file (the MNIST file format).</summary>
public sealed record IdxArray(int[] Shape, byte[] Data)
{
    public long Count => Shape.Length == 0 ? 0 : Shape[0];
}

/// <summary>Reads IDX files, raw or gzip-compressed, checking every claim the header makes.</summary>
/// <remarks>Format: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then one
/// big-endian int32 per dimension, then the data in row-major order. Sizes are checked against the file
/// before anything is allocated, so a header claiming 10^12 images is refused, not attempted.</remarks>
public static class IdxReader
{
    const byte UnsignedByte = 0x08;
    const int MaxDimensions = 4;
    // An IDX array must fit one .NET array; the largest real one (MNIST train images) is 47 MB.
    const long MaxDataBytes = int.MaxValue - 64;

    public static IdxArray ReadFile(string path)
    {
        if (!File.Exists(path)) throw new LatentLabException($"{path}: file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new LatentLabException($"{path}: cannot read ({e.Message})", e); }
        return Parse(bytes, path);
    }

    /// <summary>Parses the bytes of an IDX file; <paramref name="name"/> names it in error messages.</summary>
    public static IdxArray Parse(byte[] file, string name)
    {
        bool gzip = file.Length >= 2 && file[0] == 0x1f && file[1] == 0x8b;
        return gzip ? ParseGzip(file, name) : ParseRaw(file, name);
    }

    static IdxArray ParseRaw(byte[] file, string name)
    {
        int ndims = ReadMagic(file, name);
        int headerBytes = 4 + 4 * ndims;
        if (file.Length < headerBytes)
            throw new CorruptFileException(name, $"truncated header: {ndims} dimensions need {headerBytes} bytes");
        var (shape, dataBytes) = ReadDimensions(file.AsSpan(4, 4 * ndims), name);

        long actual = file.Length - headerBytes;
        if (actual < dataBytes)
            throw new CorruptFileException(name, $"truncated: the header promises {dataBytes:N0} data bytes but the file holds {actual:N0}");
        if (actual > dataBytes)
            throw new CorruptFileException(name, $"{actual - dataBytes:N0} unexpected bytes after the {dataBytes:N0} data bytes the header promises");
        return new IdxArray(shape, file.AsSpan(headerBytes).ToArray());
    }

    static IdxArray ParseGzip(byte[] file, string name)
    {
        if (file.Length < 18) throw new CorruptFileException(name, "truncated gzip stream");
        // The gzip trailer holds the uncompressed length mod 2^32: a cheap check before allocating.
        uint trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(file.Length - 4));
        try
        {
            using var gzip = new GZipStream(new MemoryStream(file, writable: false), CompressionMode.Decompress);
            var header = new byte[4 + 4 * MaxDimensions];
            int ndims = ReadMagic(header.AsSpan(0, ReadUpTo(gzip, header, 4)), name);
            int headerBytes = 4 + 4 * ndims;
            if (ReadUpTo(gzip, header.AsSpan(4), 4 * ndims) < 4 * ndims)
                throw new CorruptFileException(name, $"truncated header: {ndims} dimensions need {headerBytes} bytes");
            var (shape, dataBytes) = ReadDimensions(header.AsSpan(4, 4 * ndims), name);
            if ((uint)(headerBytes + dataBytes) != trailerLength)
                throw new CorruptFileException(name, $"the header promises {headerBytes + dataBytes:N0} bytes but the gzip trailer says {trailerLength:N0} (mod 2^32)");

            var data = new byte[dataBytes];
            int read = ReadUpTo(gzip, data, data.Length);
            if (read < data.Length)
                throw new CorruptFileException(name, $"truncated: the header promises {dataBytes:N0} data bytes but the stream holds {read:N0}");
            if (gzip.ReadByte() >= 0)
                throw new CorruptFileException(name, $"unexpected bytes after the {dataBytes:N0} data bytes the header promises");
            return new IdxArray(shape, data);
        }
        catch (InvalidDataException e)
        {
            throw new CorruptFileException(name, $"corrupt gzip stream ({e.Message})");
        }
    }

    /// <summary>Checks the four magic bytes and returns the number of dimensions.</summary>
    static int ReadMagic(ReadOnlySpan<byte> magic, string name)
    {
        if (magic.Length < 4) throw new CorruptFileException(name, "too short to be an IDX file (no magic number)");
        if (magic[0] != 0 || magic[1] != 0)
            throw new CorruptFileException(name, $"bad magic number 0x{magic[0]:x2}{magic[1]:x2}{magic[2]:x2}{magic[3]:x2}: not an IDX file");
        if (magic[2] != UnsignedByte)
            throw new CorruptFileException(name, $"IDX type code 0x{magic[2]:x2} is not supported (only 0x08, unsigned byte)");
        int ndims = magic[3];
        if (ndims is < 1 or > MaxDimensions)
            throw new CorruptFileException(name, $"{ndims} dimensions in the header; expected 1 to {MaxDimensions}");
        return ndims;
    }

    static (int[] Shape, long DataBytes) ReadDimensions(ReadOnlySpan<byte> dims, string name)
    {
        var shape = new int[dims.Length / 4];
        long dataBytes = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(dims.Slice(4 * i));
            if (shape[i] < 0) throw new CorruptFileException(name, $"dimension {i} has negative size {shape[i]}");
            dataBytes *= shape[i];
            if (dataBytes > MaxDataBytes)
                throw new CorruptFileException(name, $"the header claims more than {MaxDataBytes:N0} bytes of data (dimension {i} is {shape[i]:N0})");
        }
        return (shape, dataBytes);
    }

    static int ReadUpTo(Stream stream, Span<byte> buffer, int count)
    {
        int total = 0;
        while (total < count)
        {
            int n = stream.Read(buffer.Slice(total, count - total));
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
