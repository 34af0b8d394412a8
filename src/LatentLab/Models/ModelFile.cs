using LatentLab.IO;
using static TorchSharp.torch;

namespace LatentLab.Models;

/// <summary>Saves and loads a model's weights as safetensors, named as <c>named_parameters()</c> names them.</summary>
public static class ModelFile
{
    public static IEnumerable<(string Name, Tensor Tensor)> Tensors(Autoencoder model, string prefix = "") =>
        model.named_parameters().Select(p => (prefix + p.name, (Tensor)p.parameter));

    public static void Save(Autoencoder model, string path) =>
        SafeTensors.Write(path, Tensors(model), new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["latentlab_model"] = Json.Serialize(model.Config).ReplaceLineEndings(""),
        });

    /// <summary>Copies the weights in <paramref name="path"/> into <paramref name="model"/>, in place.</summary>
    public static void Load(Autoencoder model, string path) => Load(model, SafeTensors.Read(path).Tensors, path);

    /// <summary>Copies weights into the model's existing parameters (which may be views of an optimizer's buffer).</summary>
    /// <remarks>Every parameter must be present with its exact shape and float32 type; nothing is loaded otherwise.</remarks>
    public static void Load(Autoencoder model, IReadOnlyDictionary<string, SafeTensor> tensors, string path, string prefix = "")
    {
        var parameters = model.named_parameters().ToList();
        foreach (var (name, parameter) in parameters)
        {
            if (!tensors.TryGetValue(prefix + name, out var t))
                throw new CorruptFileException(path, $"tensor '{prefix + name}' is missing");
            if (t.Dtype != "F32")
                throw new CorruptFileException(path, $"tensor '{prefix + name}' is {t.Dtype}, expected F32");
            if (!t.Shape.SequenceEqual(parameter.shape))
                throw new CorruptFileException(path, $"tensor '{prefix + name}' has shape [{string.Join(", ", t.Shape)}], the model needs [{string.Join(", ", parameter.shape)}]");
        }
        var unexpected = tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Except(parameters.Select(p => prefix + p.name)).FirstOrDefault();
        if (unexpected is not null) throw new CorruptFileException(path, $"unexpected tensor '{unexpected}' for model {model.Config.Name}");

        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            using var loaded = tensors[prefix + name].ToTensor();
            parameter.copy_(loaded);
        }
    }
}
