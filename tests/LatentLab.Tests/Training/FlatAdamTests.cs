using LatentLab.Models;
using LatentLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Training;

public class FlatAdamTests
{
    [Fact]
    public void GivesTheSameParametersAsTorchSharpsAdam()
    {
        var config = ModelRegistry.Get("vae_2d");
        manual_seed(5);
        using var reference = Autoencoder.Create(config);
        manual_seed(5);
        using var flat = Autoencoder.Create(config);

        var referenceAdam = optim.Adam(reference.parameters(), lr: 1e-3);
        using var flatAdam = new FlatAdam(flat.parameters(), 1e-3);
        using var data = Fixtures.MnistSlice();
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            var x = data.TrainImages.narrow(0, step * 64, 64);
            referenceAdam.zero_grad();
            reference.Loss(x, new Generator((ulong)step)).Total.backward();
            referenceAdam.step();

            flatAdam.ZeroGrad();
            flat.Loss(x, new Generator((ulong)step)).Total.backward();
            flatAdam.Step();
        }
        foreach (var ((name, a), (_, b)) in reference.named_parameters().Zip(flat.named_parameters()))
        {
            double difference = (a - b).abs().max().item<float>();
            Assert.True(difference <= 1e-6, $"{name}: max |difference| {difference:E2}");
        }
    }

    [Fact]
    public void ParametersAndGradientsAreViewsOfTheFlatBuffers()
    {
        using var model = Autoencoder.Create(ModelRegistry.Get("ae_2d"));
        using var adam = new FlatAdam(model.parameters(), 1e-2);
        using var x = rand(8, 1, 28, 28);
        adam.ZeroGrad();
        model.Loss(x, null).Total.backward();
        var before = model.parameters().Select(p => p.clone()).ToList();
        adam.Step();
        // Every parameter moved, so every gradient landed in the flat buffer the step reads.
        foreach (var (p, old) in model.parameters().Zip(before))
            Assert.True((p - old).abs().max().item<float>() > 0);
        Assert.Equal(model.parameters().Sum(p => p.numel()), adam.ParameterCount);
    }
}
