using static TorchSharp.torch;

namespace LatentLab.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void MatrixProductRunsInLibtorch()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void AutogradComputesAGradient()
    {
        using var x = tensor(3.0f, requires_grad: true);
        using var y = x * x * x;
        y.backward();
        Assert.Equal(27f, x.grad!.item<float>()); // d/dx x^3 = 3x^2
    }
}
