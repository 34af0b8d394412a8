using LatentLab.Runtime;

namespace LatentLab.Tests.Runtime;

public class CpuTests
{
    [Fact]
    public void ACpuinfoFileGivesTheModelAndTheRecordedFlagsInTheirOrder()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["cpuinfo"], """
            processor	: 0
            vendor_id	: AuthenticAMD
            model name	: AMD EPYC 9R14
            flags		: fpu avx2 avx512_bf16 avx512f avx512_vnni
            processor	: 1
            model name	: something else
            flags		: fpu amx_bf16
            """);
        var cpu = Cpu.Read(dir["cpuinfo"]);
        Assert.Equal("AMD EPYC 9R14", cpu.Model);
        Assert.Equal(["avx512f", "avx512_bf16"], cpu.Flags);
        Assert.Equal("AMD EPYC 9R14 (avx512f, avx512_bf16)", cpu.ToString());
        Assert.Equal(new CpuInfo("unknown CPU", []), Cpu.Read(dir["missing"]));
    }

    [LinuxFact("it reads /proc/cpuinfo")]
    public void MetricsJsonNamesTheCpuItWasMeasuredOn()
    {
        var model = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("model name")).Split(':', 2)[1].Trim();
        Assert.Equal(model, Cpu.Current.Model);
        using var data = Fixtures.MnistSlice();
        using var vae = LatentLab.Models.Autoencoder.Create(LatentLab.Models.ModelRegistry.Get("ae_2d"));
        var metrics = LatentLab.Evaluation.Evaluator.Evaluate(vae, data, new LatentLab.Evaluation.EvaluationOptions(IwaeK: 0));
        var json = LatentLab.IO.Json.Serialize(metrics);
        Assert.Contains($"\"model\": \"{model}\"", json);
        Assert.Equal(Cpu.Current, System.Text.Json.JsonSerializer.Deserialize<LatentLab.Evaluation.Metrics>(json, LatentLab.IO.Json.Options)!.Cpu);
    }
}
