using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using LatentLab.Data;

namespace LatentLab.Tests.Data;

public class IdxReaderTests
{
    static byte[] Idx(int[] dims, byte typeCode = 0x08, int? dataBytes = null)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        var file = new byte[4 + 4 * dims.Length + (dataBytes ?? (int)count)];
        file[2] = typeCode;
        file[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4 + 4 * i), dims[i]);
        for (int i = 4 + 4 * dims.Length; i < file.Length; i++) file[i] = (byte)(i * 7);
        return file;
    }

    static byte[] Gzip(byte[] bytes)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    static CorruptFileException Rejects(byte[] file) => Assert.Throws<CorruptFileException>(() => IdxReader.Parse(file, "f.idx"));

    [Fact]
    public void ReadsShapeAndDataOfARawFile()
    {
        var file = Idx([3, 2, 2]);
        var array = IdxReader.Parse(file, "f");
        Assert.Equal([3, 2, 2], array.Shape);
        Assert.Equal(file.AsSpan(16).ToArray(), array.Data);
    }

    [Fact]
    public void ReadsAGzipFileToTheSameArray()
    {
        var file = Idx([5, 4]);
        var raw = IdxReader.Parse(file, "f");
        var gz = IdxReader.Parse(Gzip(file), "f.gz");
        Assert.Equal(raw.Shape, gz.Shape);
        Assert.Equal(raw.Data, gz.Data);
    }

    [Fact]
    public void RejectsABadMagicNumberNamingTheFile()
    {
        var file = Idx([2]);
        file[0] = 0x12;
        var e = Rejects(file);
        Assert.Contains("f.idx", e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void RejectsTypesOtherThanUnsignedByte() => Assert.Contains("type code 0x0d", Rejects(Idx([2], typeCode: 0x0d)).Message);

    [Fact]
    public void RejectsZeroOrTooManyDimensions()
    {
        var file = Idx([2]);
        file[3] = 0;
        Assert.Contains("dimensions", Rejects(file).Message);
        file[3] = 9;
        Assert.Contains("dimensions", Rejects(file).Message);
    }

    [Fact]
    public void RejectsATruncatedHeader() => Assert.Contains("truncated header", Rejects(Idx([2, 3]).AsSpan(0, 9).ToArray()).Message);

    [Fact]
    public void RejectsTruncatedData() => Assert.Contains("truncated", Rejects(Idx([4, 4], dataBytes: 10)).Message);

    [Fact]
    public void RejectsTrailingBytes() => Assert.Contains("unexpected bytes", Rejects(Idx([4, 4], dataBytes: 20)).Message);

    [Fact]
    public void RejectsAFileTooShortForAMagicNumber() => Assert.Contains("too short", Rejects([0, 0]).Message);

    [Fact]
    public void RefusesAHeaderClaimingATrillionImagesBeforeAllocating()
    {
        var file = Idx([1, 1, 1], dataBytes: 0);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), 1_000_000);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(8), 1_000_000);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(12), 784);
        var clock = Stopwatch.StartNew();
        Assert.Contains("more than", Rejects(file).Message);
        Assert.Contains("more than", Rejects(Gzip(file)).Message);
        Assert.True(clock.ElapsedMilliseconds < 1000);
    }

    [Fact]
    public void RejectsAGzipStreamWhoseTrailerDisagreesWithTheHeader()
    {
        var gz = Gzip(Idx([4, 4]));
        gz[^4] ^= 0x01;
        Assert.Contains("trailer", Rejects(gz).Message);
    }

    [Fact]
    public void RejectsACorruptOrTruncatedGzipStream()
    {
        var gz = Gzip(Idx([40, 40]));
        Rejects(gz.AsSpan(0, gz.Length / 2).ToArray());
        var flipped = (byte[])gz.Clone();
        flipped[gz.Length / 2] ^= 0xff;
        Rejects(flipped);
    }

    [Fact]
    public void AMissingFileIsAUserErrorNamingThePath()
    {
        var e = Assert.Throws<LatentLabException>(() => IdxReader.ReadFile("/nonexistent/train-images-idx3-ubyte"));
        Assert.Contains("/nonexistent/train-images-idx3-ubyte", e.Message);
    }
}
