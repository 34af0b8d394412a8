using System.Text.Json.Serialization;

namespace LatentLab.Data;

/// <summary>The shape of one image: channels (1 grey, 3 RGB), height and width in pixels.</summary>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    /// <summary>MNIST and Fashion-MNIST: one grey channel, 28 x 28.</summary>
    public static ImageShape Mnist { get; } = new(1, 28, 28);

    /// <summary>The sides an image folder may be resized to: SSIM's 11x11 window must fit inside.</summary>
    public const int MinSide = 12, MaxSide = 512;

    /// <summary>Values per image: channels x height x width.</summary>
    [JsonIgnore] public int Pixels => Channels * Height * Width;

    [JsonIgnore] public bool IsColor => Channels == 3;

    public long[] TensorShape(long batch) => [batch, Channels, Height, Width];

    public ImageShape Validate()
    {
        if (Channels is not (1 or 3)) throw new LatentLabException($"images must have 1 (grey) or 3 (RGB) channels, got {Channels}");
        if (Height is < 1 or > MaxSide || Width is < 1 or > MaxSide)
            throw new LatentLabException($"image sides must be between 1 and {MaxSide} pixels, got {Width}x{Height}");
        return this;
    }

    /// <summary>"1x28x28": channels x height x width.</summary>
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
