using System.Numerics;
using System.Runtime.CompilerServices;

namespace LatentLab.Runtime;

/// <summary>bfloat16 as the upper half of a float32's bits, for the C# passes that read and write libtorch's bfloat16
/// tensors (the mixed-precision Adam step, the hand-written mixed-precision training step): widening is exact, narrowing
/// rounds to nearest even, as libtorch's casts do.</summary>
public static class BFloat16Bits
{
    /// <summary>float32 bits to bfloat16 bits in the low half, rounded to nearest even (finite values, infinities and
    /// the quiet NaNs arithmetic makes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<uint> Round(Vector<uint> bits) => (bits + new Vector<uint>(0x7FFF) + ((bits >> 16) & Vector<uint>.One)) >> 16;

    /// <summary><see cref="Round(Vector{uint})"/> of float32 values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<uint> Round(Vector<float> values) => Round(Vector.AsVectorUInt32(values));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint bits) => (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;

    /// <summary>A float32 rounded to bfloat16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Round(float value) => (ushort)Round(BitConverter.SingleToUInt32Bits(value));

    /// <summary>bfloat16 bits (in the low half of each lane) widened to the float32 they stand for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Widen(Vector<uint> bits) => Vector.AsVectorSingle(bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Widen(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
