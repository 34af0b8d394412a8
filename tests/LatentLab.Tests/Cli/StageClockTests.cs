using LatentLab.Cli.Ui;

namespace LatentLab.Tests.Cli;

public class StageClockTests
{
    [Fact]
    public void StagesAddUpByGroupAndPartLargestFirst()
    {
        var clock = new StageClock();
        clock.Enter("training", "vae_2d");
        Thread.Sleep(30);
        clock.Enter("evaluation", "IWAE k=100: 64/10,000 images");
        Thread.Sleep(10);
        clock.Enter("evaluation", "IWAE k=100: 128/10,000 images");   // the same stage: the text after ": " is progress
        Thread.Sleep(190);                                              // far above reconstructions' 5 ms, for the order below
        clock.Enter("evaluation", "reconstructions");
        Thread.Sleep(5);
        clock.Stop();
        Thread.Sleep(50);                                                // between stages: counted nowhere
        clock.Enter("side by side", "comparison: samples");
        clock.Stop();

        Assert.InRange(clock.Seconds("training"), 0.03, 0.03 + 0.5);
        Assert.InRange(clock.Seconds("evaluation"), 0.205, 0.205 + 0.5);
        var summary = clock.Summary();
        Assert.Matches(@"^training \d+\.\d s \(vae_2d \d+\.\d\); evaluation \d+\.\d s \(IWAE k=100 \d+\.\d, reconstructions \d+\.\d\); side by side \d+\.\d s \(samples \d+\.\d\)$", summary);
    }
}
