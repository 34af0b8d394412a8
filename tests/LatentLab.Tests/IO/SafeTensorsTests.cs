using System.Buffers.Binary;
using System.Text;
using LatentLab.IO;
using LatentLab.Models;
using static TorchSharp.torch;

namespace LatentLab.Tests.IO;

public class SafeTensorsTests
{
    static byte[] File(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    static string Rejects(byte[] file) => Assert.Throws<CorruptFileException>(() => SafeTensors.Parse(file, "m.safetensors")).Message;

    [Fact]
    public void SavedModelLoadsIntoAFreshModelWithIdenticalOutputs()
    {
        using var dir = new TempDir();
        var config = ModelRegistry.Get("vae_32d");
        manual_seed(11);
        using var original = Autoencoder.Create(config);
        manual_seed(12);
        using var restored = Autoencoder.Create(config);
        using var x = rand(7, 784);
        using (var before = restored.forward(x)) using (var reference = original.forward(x))
            Assert.False(before.allclose(reference)); // different seeds, different weights

        ModelFile.Save(original, dir["model.safetensors"]);
        ModelFile.Load(restored, dir["model.safetensors"]);
        using var a = original.forward(x);
        using var b = restored.forward(x);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void WritesTheStandardLayout()
    {
        using var dir = new TempDir();
        using var t = arange(6, dtype: ScalarType.Float32).view(2, 3);
        SafeTensors.Write(dir["t.safetensors"], [("w", t)], new Dictionary<string, string> { ["k"] = "v" });
        var bytes = System.IO.File.ReadAllBytes(dir["t.safetensors"]);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        Assert.Equal(8 + headerLength + 24, bytes.Length);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Contains("\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", header);
        var (tensors, meta) = SafeTensors.Read(dir["t.safetensors"]);
        Assert.Equal("v", meta["k"]);
        using var back = tensors["w"].ToTensor();
        Assert.True(back.eq(t).all().item<bool>());
    }

    [Fact]
    public void RejectsAHeaderLargerThanTheLimit()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        Assert.Contains("exceeds", Rejects(bytes));
    }

    [Fact]
    public void RejectsAHeaderLongerThanTheFile()
    {
        var bytes = File("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 100);
        Assert.Contains("truncated", Rejects(bytes));
    }

    [Fact]
    public void RejectsOffsetsOutsideTheFile() =>
        Assert.Contains("outside", Rejects(File("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8000]}}", 8)));

    [Fact]
    public void RejectsUnknownDtypes() =>
        Assert.Contains("unsupported dtype 'F8_E4M3'", Rejects(File("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2)));

    [Fact]
    public void RejectsAShapeThatDisagreesWithTheOffsets() =>
        Assert.Contains("needs 12 bytes", Rejects(File("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)));

    [Fact]
    public void RejectsHolesAndOverlaps() =>
        Assert.Contains("hole or overlap", Rejects(File(
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6)));

    [Fact]
    public void RejectsInvalidJson() => Assert.Contains("not valid JSON", Rejects(File("{\"w\":", 0)));

    [Fact]
    public void AWrongShapeForTheModelNamesTheTensor()
    {
        using var dir = new TempDir();
        using var vae2 = Autoencoder.Create(ModelRegistry.Get("vae_2d"));
        using var vae32 = Autoencoder.Create(ModelRegistry.Get("vae_32d"));
        ModelFile.Save(vae2, dir["m.safetensors"]);
        var e = Assert.Throws<CorruptFileException>(() => ModelFile.Load(vae32, dir["m.safetensors"]));
        Assert.Contains("encoder.4.weight", e.Message);
    }
}

public class SafeTensorsIntegrityTests
{
    [Fact]
    public void AFlippedByteInTheWeightsIsCaughtAndNamesTheFile()
    {
        using var dir = new TempDir();
        using var model = Autoencoder.Create(ModelRegistry.Get("ae_2d"));
        var path = dir["model.safetensors"];
        ModelFile.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        bytes[^1000] ^= 0x10; // inside the last tensor's data: still a well-formed file
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CorruptFileException>(() => ModelFile.Load(model, path));
        Assert.Contains(path, e.Message);
        Assert.Contains("SHA-256", e.Message);
    }
}
