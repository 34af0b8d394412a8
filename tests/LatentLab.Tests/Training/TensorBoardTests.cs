using System.Buffers.Binary;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Tests.Training;

public class TensorBoardTests
{
    /// <summary>Reads a TFRecord file, checking each record's length and data CRCs, and parses every event.</summary>
    static List<Tensorboard.Event> ReadEvents(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Tensorboard.Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            Assert.True(bytes.Length - at >= 16, $"truncated record at byte {at}");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            Assert.Equal(TensorBoardLog.MaskedCrc32C(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            var data = bytes.AsSpan(at + 12, (int)length);
            Assert.Equal(TensorBoardLog.MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length)));
            events.Add(Tensorboard.Event.Parser.ParseFrom(data.ToArray()));
            at += 16 + (int)length;
        }
        return events;
    }

    [Fact]
    public void Crc32CMatchesTheStandardCheckValue() =>
        Assert.Equal(0xE3069283u, TensorBoardLog.Crc32C("123456789"u8));

    [Fact]
    public async Task TrainingWritesEventFilesWithEveryEpochsLossesTheMetricsAndAnImage()
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync("train", "--model", "vae_2d", "--epochs", "2", "--iwae-k", "5", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
        Assert.True(exit == 0, error);
        var file = Assert.Single(Directory.GetFiles(dir["mnist/vae_2d/tensorboard"], "events.out.tfevents.*"));
        var events = ReadEvents(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.InRange(events[0].WallTime, DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        var scalars = events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v))).ToList();
        var history = History.Read(dir["mnist/vae_2d/history.csv"]);
        foreach (var epoch in new[] { 1, 2 })
        {
            var train = scalars.Single(s => s.v.Tag == "loss/train" && s.Step == epoch).v.SimpleValue;
            Assert.Equal((float)history[epoch - 1].TrainLoss, train);
            Assert.Contains(scalars, s => s.v.Tag == "loss/test_kl" && s.Step == epoch);
        }
        Assert.Contains(scalars, s => s.v.Tag == "test/elbo_nats" && s.Step == 2);
        Assert.Contains(scalars, s => s.v.Tag == "test/ssim" && s.v.SimpleValue is > 0 and <= 1);
        var image = scalars.First(s => s.v.Tag == "reconstructions").v.Image;
        using var png = SkiaSharp.SKBitmap.Decode(image.EncodedImageString.ToByteArray());
        Assert.Equal((8 * 28, 2 * 28), (png.Width, png.Height));
    }

    [Fact]
    public async Task NoTensorBoardWritesNone()
    {
        using var dir = new TempDir();
        var (exit, _, _) = await LatentCommand.RunAsync("train", "--model", "ae_2d", "--epochs", "1", "--iwae-k", "0", "--no-tensorboard", "--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path);
        Assert.Equal(0, exit);
        Assert.False(Directory.Exists(dir["mnist/ae_2d/tensorboard"]));
    }
}
