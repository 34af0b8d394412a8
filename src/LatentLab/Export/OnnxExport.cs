using Google.Protobuf;
using LatentLab.IO;
using LatentLab.Models;
using Onnx;
using static TorchSharp.torch;

namespace LatentLab.Export;

/// <summary>What <see cref="OnnxExport.Write"/> produced: the two files and the names of their inputs and outputs.</summary>
/// <param name="Prior">prior.safetensors: what a program needs to sample codes for the decoder (a VAE's prior, an AE's
/// fitted sampler), its metadata saying how (<c>prior</c>, <c>how_to_sample</c>).</param>
/// <param name="Posterior">posterior.safetensors, for a flow posterior: the flow's own tensors and, in its metadata
/// (<c>posterior</c>, <c>how_to_sample</c>), how to finish q(z|x) from the encoder's outputs; null for a Gaussian or an AE.</param>
public sealed record OnnxFiles(string Encoder, string Decoder, IReadOnlyList<string> EncoderOutputs, string Prior, string? Posterior = null);

/// <summary>Exports a trained model as two ONNX graphs (opset <see cref="Opset"/>, built with OnnxSharp's classes of
/// ONNX's protobuf schema): <c>encoder.onnx</c> maps <c>image</c> [batch, C, H, W] (intensities in [0, 1]) to <c>mean</c>
/// and <c>log_variance</c> [batch, latent] (a VAE's q(z|x)) or to <c>code</c> [batch, latent] (an AE's); <c>decoder.onnx</c>
/// maps <c>code</c> [batch, latent] to <c>image</c> [batch, C, H, W], pixel intensities in [0, 1] (the sigmoid of the
/// logits). The batch dimension is dynamic. The graphs repeat the TorchSharp modules operation for operation: Gemm
/// (transB) for Linear, Conv and ConvTranspose (4x4, stride 2, padding 1), Relu (Tanh for <c>--activation tanh</c>),
/// Flatten, Reshape, Split, Sigmoid.</summary>
public static class OnnxExport
{
    public const int Opset = 21;
    const long IrVersion = 10;

    /// <summary>The ONNX operator of an MLP's nonlinearity: the enum's own name.</summary>
    static string Unit(ModelConfig config) => config.Activation.ToString();

    public static OnnxFiles Write(Autoencoder model, string folder)
    {
        Directory.CreateDirectory(folder);
        var (encoder, decoder, outputs) = Build(model);
        bool flow = model.PosteriorFamily is { NeedsRecipe: true };
        var files = new OnnxFiles(Path.Combine(folder, "encoder.onnx"), Path.Combine(folder, "decoder.onnx"), outputs, Path.Combine(folder, "prior.safetensors"),
            flow ? Path.Combine(folder, "posterior.safetensors") : null);
        AtomicFile.WriteAllBytes(files.Encoder, encoder.ToByteArray());
        AtomicFile.WriteAllBytes(files.Decoder, decoder.ToByteArray());
        WritePrior(model, files.Prior);
        if (files.Posterior is { } posteriorPath) WritePosterior(model, posteriorPath);
        return files;
    }

    /// <summary>posterior.safetensors: a flow posterior's tensors and how to finish q(z|x) from the encoder's outputs.</summary>
    static void WritePosterior(Autoencoder model, string path)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (tensors, how) = model.PosteriorFamily!.Portable();
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["posterior"] = model.Config.TopLatentDim > 0 ? "two-level" : model.Config.Posterior,
            ["flow_steps"] = model.Config.FlowSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["top_latent_dim"] = model.Config.TopLatentDim.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["latent_dim"] = model.Config.LatentDim.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["how_to_sample"] = how,
        });
    }

    /// <summary>prior.safetensors: the prior's (or the AE's fitted sampler's) tensors and how to sample from them.</summary>
    static void WritePrior(Autoencoder model, string path)
    {
        var prior = model.Prior ?? throw new LatentLabException(
            $"{model.Config.Name} is an autoencoder without a fitted sampler (sampler.safetensors); run 'latent evaluate' first");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (tensors, how) = prior.Portable();
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["prior"] = model.IsVariational ? model.Config.Prior : $"sampler:{model.Config.Sampler}",
            ["latent_dim"] = model.Config.LatentDim.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["how_to_sample"] = how,
        });
    }

    public static (ModelProto Encoder, ModelProto Decoder, IReadOnlyList<string> EncoderOutputs) Build(Autoencoder model)
    {
        var config = model.Config;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        bool vae = model.IsVariational;

        var encoder = new GraphBuilder($"{config.Name}_encoder", parameters);
        string x = encoder.Input("image", ["batch", config.Image.Channels, config.Image.Height, config.Image.Width]);
        if (config.Arch == Architecture.Conv)
        {
            x = encoder.ConvChain("encoder.conv.", x, transposed: false, reluAfterLast: true);
            x = encoder.Node("Flatten", [x], new() { ["axis"] = 1L });
            x = encoder.LinearChain("encoder.dense.", x, reluAfterLast: false);
        }
        else
        {
            x = encoder.Node("Flatten", [x], new() { ["axis"] = 1L });
            x = encoder.LinearChain("encoder.", x, reluAfterLast: false, activation: Unit(config));
        }
        string[] outputs;
        long[] widths;
        if (vae)
        {
            // The mean and the log-variance, then whatever else the posterior family reads (a flow's parameters or context).
            // (A two-level VAE's encoder gives q(z1|x): the first DecoderLatentDim values of the code.)
            var family = model.PosteriorFamily!;
            int d = config.DecoderLatentDim;
            long extra = family.EncoderOutputs - 2 * d;
            (outputs, widths) = family.ExtraOutputName is { } extraName && extra > 0
                ? (new[] { "mean", "log_variance", extraName }, new long[] { d, d, extra })
                : (new[] { "mean", "log_variance" }, new long[] { d, d });
            var split = encoder.Constant("split", widths);
            encoder.Node("Split", [x, split], new() { ["axis"] = 1L }, outputs: outputs);
        }
        else
        {
            encoder.Node("Identity", [x], outputs: ["code"]);
            (outputs, widths) = (["code"], [config.LatentDim]);
        }
        for (int i = 0; i < outputs.Length; i++) encoder.Output(outputs[i], ["batch", widths[i]]);

        var decoder = new GraphBuilder($"{config.Name}_decoder", parameters);
        string z = decoder.Input("code", ["batch", config.DecoderLatentDim]);
        if (config.Arch == Architecture.Conv)
        {
            z = decoder.LinearChain("decoder.dense.", z, reluAfterLast: true);
            int factor = 1 << config.ConvChannels.Count;
            var shape = decoder.Constant("feature_shape", [-1, config.ConvChannels[^1], config.Image.Height / factor, config.Image.Width / factor]);
            z = decoder.Node("Reshape", [z, shape]);
            z = decoder.ConvChain("decoder.deconv.", z, transposed: true, reluAfterLast: false);
        }
        else
        {
            z = decoder.LinearChain("decoder.", z, reluAfterLast: false, activation: Unit(config));
            var shape = decoder.Constant("image_shape", [-1, config.Image.Channels, config.Image.Height, config.Image.Width]);
            z = decoder.Node("Reshape", [z, shape]);
        }
        decoder.Node("Sigmoid", [z], outputs: ["image"]);
        decoder.Output("image", ["batch", config.Image.Channels, config.Image.Height, config.Image.Width]);

        string doc = $"LatentLab {config.Name}: {ModelRegistry.Describe(config)}; config: {Json.Serialize(config).ReplaceLineEndings("")}";
        return (encoder.Model(doc), decoder.Model(doc), outputs);
    }

    /// <summary>Adds nodes, weights (as initializers) and typed inputs and outputs to one ONNX graph.</summary>
    sealed class GraphBuilder(string name, IReadOnlyDictionary<string, Tensor> parameters)
    {
        readonly GraphProto _graph = new() { Name = name };
        int _next;

        public string Input(string inputName, object[] dims)
        {
            _graph.Input.Add(Value(inputName, dims));
            return inputName;
        }

        public void Output(string outputName, object[] dims) => _graph.Output.Add(Value(outputName, dims));

        static ValueInfoProto Value(string valueName, object[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
            return new ValueInfoProto
            {
                Name = valueName,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }

        /// <summary>An int64 constant (shapes, split sizes) as an initializer.</summary>
        public string Constant(string constantName, long[] values)
        {
            var tensor = new TensorProto { Name = constantName, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            _graph.Initializer.Add(tensor);
            return constantName;
        }

        /// <summary>A model parameter as a float initializer under its safetensors name.</summary>
        string Weight(string parameterName)
        {
            var t = parameters[parameterName];
            var proto = new TensorProto { Name = parameterName, DataType = (int)TensorProto.Types.DataType.Float };
            proto.Dims.AddRange(t.shape);
            using var contiguous = t.detach().contiguous();
            proto.RawData = ByteString.CopyFrom(contiguous.bytes);
            _graph.Initializer.Add(proto);
            return parameterName;
        }

        public string Node(string op, string[] inputs, Dictionary<string, object>? attributes = null, string[]? outputs = null)
        {
            outputs ??= [$"{op.ToLowerInvariant()}_{_next++}"];
            var node = new NodeProto { OpType = op, Name = $"{op}_{_next++}" };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            foreach (var (key, value) in attributes ?? [])
                node.Attribute.Add(value switch
                {
                    long i => new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Int, I = i },
                    long[] ints => Ints(key, ints),
                    _ => throw new ArgumentException($"attribute {key}"),
                });
            _graph.Node.Add(node);
            return outputs[0];

            static AttributeProto Ints(string key, long[] values)
            {
                var attribute = new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Ints };
                attribute.Ints.AddRange(values);
                return attribute;
            }
        }

        IReadOnlyList<int> Indices(string prefix) => Models.Networks.LayerChain.Positions(parameters.Keys, prefix);

        /// <summary>Gemm (y = x W^T + b, PyTorch's Linear) for each layer under <paramref name="prefix"/>, Relu (or
        /// <paramref name="activation"/>, an ONNX operator's name) between.</summary>
        public string LinearChain(string prefix, string x, bool reluAfterLast, string activation = "Relu")
        {
            var layers = Indices(prefix);
            for (int i = 0; i < layers.Count; i++)
            {
                x = Node("Gemm", [x, Weight($"{prefix}{layers[i]}.weight"), Weight($"{prefix}{layers[i]}.bias")], new() { ["transB"] = 1L });
                if (i < layers.Count - 1 || reluAfterLast) x = Node(activation, [x]);
            }
            return x;
        }

        /// <summary>4x4 convolutions (or transposed convolutions) of stride 2 and padding 1, Relu between.</summary>
        public string ConvChain(string prefix, string x, bool transposed, bool reluAfterLast)
        {
            var layers = Indices(prefix);
            for (int i = 0; i < layers.Count; i++)
            {
                x = Node(transposed ? "ConvTranspose" : "Conv", [x, Weight($"{prefix}{layers[i]}.weight"), Weight($"{prefix}{layers[i]}.bias")],
                    new() { ["kernel_shape"] = new long[] { 4, 4 }, ["strides"] = new long[] { 2, 2 }, ["pads"] = new long[] { 1, 1, 1, 1 } });
                if (i < layers.Count - 1 || reluAfterLast) x = Node("Relu", [x]);
            }
            return x;
        }

        public ModelProto Model(string doc)
        {
            var model = new ModelProto
            {
                IrVersion = IrVersion,
                ProducerName = "LatentLab",
                ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0",
                DocString = doc,
                Graph = _graph,
            };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return model;
        }
    }
}
