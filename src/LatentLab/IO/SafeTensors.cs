using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace LatentLab.IO;

/// <summary>One tensor of a safetensors file: its dtype name (F32, F64, I64, U8), shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string Dtype, long[] Shape, byte[] Data)
{
    public Tensor ToTensor()
    {
        var type = SafeTensors.ScalarTypeOf(Dtype);
        var t = empty(Shape, type);
        Data.CopyTo(t.bytes);
        return t;
    }
}

/// <summary>Reads and writes the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length, a JSON header, then the tensors' bytes back to back.</summary>
/// <remarks>The reader trusts nothing: header size, JSON shape, dtype, shapes and offsets are all checked, and
/// every problem is a <see cref="CorruptFileException"/> naming the file. Files LatentLab writes carry the SHA-256 of
/// their data section in the metadata (<see cref="DataSha256Key"/>), so a flipped byte in the weights is caught too;
/// files from elsewhere, without that key, are read as they are.</remarks>
public static class SafeTensors
{
    /// <summary>The same limit as the reference implementation: a header above 100 MB is refused.</summary>
    public const long MaxHeaderBytes = 100_000_000;
    const string MetadataKey = "__metadata__";
    public const string DataSha256Key = "latentlab_data_sha256";

    static readonly Dictionary<string, (ScalarType Type, int Size)> Dtypes = new()
    {
        ["F32"] = (ScalarType.Float32, 4),
        ["F64"] = (ScalarType.Float64, 8),
        ["I64"] = (ScalarType.Int64, 8),
        ["U8"] = (ScalarType.Byte, 1),
    };

    public static ScalarType ScalarTypeOf(string dtype) => Dtypes[dtype].Type;

    static string DtypeOf(ScalarType type) =>
        Dtypes.FirstOrDefault(d => d.Value.Type == type).Key
        ?? throw new ArgumentException($"safetensors writer does not support {type}");

    /// <summary>Writes the tensors (in the given order) and string metadata, atomically.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>();
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            using var cpu = tensor.detach().cpu().contiguous();
            var bytes = cpu.bytes.ToArray();
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = DtypeOf(cpu.dtype),
                ["shape"] = cpu.shape,
                ["data_offsets"] = new[] { offset, offset + bytes.Length },
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [DataSha256Key] = DataSha256(blobs) };
        header = new Dictionary<string, object> { [MetadataKey] = meta }.Concat(header).ToDictionary();

        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8; // align the data section to 8 bytes, padding with spaces
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var blob in blobs) stream.Write(blob);
        });
    }

    /// <summary>Reads a whole file, checking everything; see <see cref="Parse"/>.</summary>
    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new LatentLabException($"{path}: file not found");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a safetensors file; <paramref name="name"/> names it in errors.</summary>
    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Parse(byte[] file, string name)
    {
        if (file.Length < 8) throw new CorruptFileException(name, "too short for a safetensors file (no header length)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes)
            throw new CorruptFileException(name, $"header length {headerLength:N0} exceeds the {MaxHeaderBytes:N0}-byte limit");
        if ((long)headerLength > file.Length - 8)
            throw new CorruptFileException(name, $"truncated: header length {headerLength:N0} but only {file.Length - 8:N0} bytes follow");

        // System.Text.Json accepts invalid UTF-8 inside strings and fails later, reading a name: check it first.
        if (!System.Text.Unicode.Utf8.IsValid(file.AsSpan(8, (int)headerLength)))
            throw new CorruptFileException(name, "header is not valid UTF-8");

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(file.AsMemory(8, (int)headerLength), new JsonDocumentOptions { MaxDepth = 8 });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(name, $"header is not valid JSON ({e.Message.Split('.')[0]})");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new CorruptFileException(name, "header is not a JSON object");

        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, string Dtype, long[] Shape, long Begin, long End)>();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name == MetadataKey)
            {
                if (property.Value.ValueKind != JsonValueKind.Object) throw new CorruptFileException(name, "__metadata__ is not an object");
                foreach (var m in property.Value.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()!
                        : throw new CorruptFileException(name, $"metadata value '{m.Name}' is not a string");
                continue;
            }
            entries.Add(ReadEntry(property, name, dataLength));
        }

        // The data section must be covered exactly, without holes or overlaps.
        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
                throw new CorruptFileException(name, $"tensor '{e.Name}' starts at {e.Begin} but the previous one ends at {expected} (hole or overlap)");
            expected = e.End;
        }
        if (expected != dataLength)
            throw new CorruptFileException(name, $"tensors cover {expected:N0} bytes but the data section holds {dataLength:N0}");

        if (metadata.TryGetValue(DataSha256Key, out var expectedDigest))
        {
            var actualDigest = Hashing.Sha256Hex(file.AsSpan((int)dataStart));
            if (actualDigest != expectedDigest)
                throw new CorruptFileException(name, $"the tensors' bytes do not match the SHA-256 recorded when the file was written (damaged or modified)");
        }

        var tensors = new Dictionary<string, SafeTensor>();
        foreach (var e in entries)
            tensors[e.Name] = new SafeTensor(e.Dtype, e.Shape, file.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin)).ToArray());
        return (tensors, metadata);
    }

    static (string Name, string Dtype, long[] Shape, long Begin, long End) ReadEntry(JsonProperty property, string file, long dataLength)
    {
        var tensor = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw new CorruptFileException(file, $"entry '{tensor}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new CorruptFileException(file, $"tensor '{tensor}' has no dtype");
        var dtype = dtypeElement.GetString()!;
        if (!Dtypes.TryGetValue(dtype, out var info))
            throw new CorruptFileException(file, $"tensor '{tensor}' has unsupported dtype '{dtype}' (supported: {string.Join(", ", Dtypes.Keys)})");

        var shape = ReadLongs(value, "shape", tensor, file, maxCount: 8);
        var offsets = ReadLongs(value, "data_offsets", tensor, file, maxCount: 2);
        if (offsets.Length != 2) throw new CorruptFileException(file, $"tensor '{tensor}' needs two data_offsets");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength)
            throw new CorruptFileException(file, $"tensor '{tensor}' has data_offsets [{begin}, {end}] outside the {dataLength:N0}-byte data section");

        long elements = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new CorruptFileException(file, $"tensor '{tensor}' has a negative dimension");
            elements = d == 0 ? 0 : elements > dataLength / d ? long.MaxValue / 2 : elements * d;
        }
        if (elements > dataLength || elements * info.Size != end - begin)
            throw new CorruptFileException(file, $"tensor '{tensor}' of shape [{string.Join(", ", shape)}] and dtype {dtype} needs {(elements > dataLength ? "more than the file's" : (elements * info.Size).ToString("N0"))} bytes, its offsets give {end - begin:N0}");
        return (tensor, dtype, shape, begin, end);
    }

    static string DataSha256(List<byte[]> blobs)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var blob in blobs) hash.AppendData(blob);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    static long[] ReadLongs(JsonElement value, string key, string tensor, string file, int maxCount)
    {
        if (!value.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() > maxCount)
            throw new CorruptFileException(file, $"tensor '{tensor}' has no valid {key}");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
                throw new CorruptFileException(file, $"tensor '{tensor}' has a non-integer in {key}");
        }
        return result;
    }
}
