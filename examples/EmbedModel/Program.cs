// A trained LatentLab model inside another program: load a run folder, encode images, decode points, sample.
//   dotnet run --project examples/EmbedModel -- results/mnist/vae_2d
using LatentLab;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: EmbedModel RUN_FOLDER   (e.g. results/mnist/vae_2d, written by 'latent train')");
    return 2;
}
using var model = TrainedModel.Load(args[0]);
var shape = model.ImageShape;
Console.WriteLine($"{model.Name}: {(model.IsVariational ? "VAE" : "AE")}, images {shape.Channels}x{shape.Height}x{shape.Width}, {model.LatentDim}-d codes");

// Three images: black, grey, and a bright square in the middle.
var images = new float[3][];
for (int i = 0; i < images.Length; i++) images[i] = new float[shape.Pixels];
Array.Fill(images[1], 0.5f);
for (int y = shape.Height / 4; y < 3 * shape.Height / 4; y++)
    for (int x = shape.Width / 4; x < 3 * shape.Width / 4; x++)
        images[2][y * shape.Width + x] = 1f;

float[][] codes = model.Encode(images);
Console.WriteLine($"encoded {codes.Length} images into codes of {codes[0].Length} values; the square's: [{string.Join(", ", codes[2].Take(4).Select(v => v.ToString("0.000")))}{(codes[2].Length > 4 ? ", ..." : "")}]");

// Decode the codes back, and the midpoint between the first two.
var midpoint = codes[0].Zip(codes[1], (a, b) => (a + b) / 2).ToArray();
float[][] decoded = model.Decode([.. codes, midpoint]);
Console.WriteLine($"decoded {decoded.Length} codes into images of {decoded[0].Length} values, mean intensity of the square's: {decoded[2].Average():0.000}");

float[][] samples = model.Sample(count: 5, seed: 1);
Console.WriteLine($"sampled {samples.Length} images of {samples[0].Length} values{(model.IsVariational ? " from the prior N(0, I)" : " from a Gaussian fitted to the test codes")}, all within [0, 1]: {samples.All(s => s.All(v => v is >= 0 and <= 1))}");
return 0;
