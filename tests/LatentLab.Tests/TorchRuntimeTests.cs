using LatentLab.Runtime;
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

    [Fact]
    public async Task WorkOnAThreadThatRanUnderAnotherCountGetsTheConfiguredOne()
    {
        int before = get_num_threads();
        try
        {
            // A thread that ran libtorch while the count was 1 (an earlier command in this process)...
            int? seenLater = null, afterRun = null;
            using var ranUnderOne = new ManualResetEventSlim();
            using var configured = new ManualResetEventSlim();
            var worker = new Thread(() =>
            {
                TorchRuntime.ConfigureThreads(1);
                using (var a = ones(64, 64)) using (var p = a.mm(a)) { }
                ranUnderOne.Set();
                configured.Wait();
                seenLater = get_num_threads();
                TorchRuntime.UseConfiguredThreads();
                afterRun = get_num_threads();
            });
            worker.Start();
            // ...keeps it after the count is set to 2 elsewhere: OpenMP's count is per thread.
            ranUnderOne.Wait();
            TorchRuntime.ConfigureThreads(2);
            configured.Set();
            worker.Join();
            Assert.Equal(1, seenLater);
            Assert.Equal(2, afterRun);
            Assert.Equal(2, await TorchRuntime.Run(() => get_num_threads()));
        }
        finally
        {
            TorchRuntime.ConfigureThreads(before);
        }
    }
}
