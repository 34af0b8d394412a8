using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace LatentLab.Visualization.Report;

/// <summary>report.html: one self-contained page (images, animations, weights and script inline; nothing fetched)
/// with the metric table, the findings, an interactive explorer of each 2-d latent space, and every figure.</summary>
public static class HtmlReport
{
    public const string FileName = "report.html";

    static readonly Dictionary<string, string> Captions = new()
    {
        ["latent_scatter.png"] = "Test codes coloured by class",
        ["latent_tsne.png"] = "t-SNE of test codes",
        ["manifold.png"] = "Images decoded over the latent plane",
        ["reconstructions.png"] = "Test images and reconstructions",
        ["samples.png"] = "Samples",
        ["latent_histograms.png"] = "Marginals of the codes against N(0, 1)",
        ["kl_per_dim.png"] = "KL per latent dimension",
        ["training_curves.png"] = "Training curves",
        ["sampling.gif"] = "Sampling animation",
        ["interpolation.gif"] = "Interpolation between test codes",
        ["latent_evolution.gif"] = "The latent space during training",
    };

    /// <param name="datasetFolder">OUT/&lt;dataset&gt;/, which the figure paths in <paramref name="comparison"/> are relative to.</param>
    /// <param name="evolutions">2-d models whose latent_evolution.gif the page plays from their snapshots instead.</param>
    public static string Render(Comparison comparison, string datasetFolder, IReadOnlyList<ExplorerModel> explorers,
        IReadOnlyList<EvolutionModel>? evolutions = null)
    {
        evolutions ??= [];
        var models = Table.Ordered(comparison.Models);
        var h = new StringBuilder();
        string E(string text) => WebUtility.HtmlEncode(text);
        h.AppendLine("<!DOCTYPE html>");
        h.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        h.AppendLine($"<title>LatentLab report: {E(comparison.Dataset)}</title>");
        h.AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.AppendLine($"<style>{Css}</style></head><body>");
        h.AppendLine($"<h1>LatentLab: {E(string.Join(", ", models.Select(m => m.Name)))} on {E(comparison.Dataset)}</h1>");
        h.AppendLine($"<p class=\"meta\">Generated {comparison.CreatedUtc:yyyy-MM-dd HH:mm} UTC by <code>latent compare</code>. Every number is in <code>{Comparison.FileName}</code> beside this file.</p>");

        h.AppendLine("<h2>Metrics</h2><table><thead><tr><th>metric</th><th>unit</th><th>better</th>");
        foreach (var m in models) h.Append($"<th>{E(m.Name)}</th>");
        h.AppendLine("</tr></thead><tbody>");
        foreach (var row in Table.Rows)
        {
            h.Append($"<tr><td>{E(row.Metric)}</td><td>{E(row.Unit)}</td><td>{E(row.Better)}</td>");
            foreach (var m in models) h.Append($"<td class=\"num\">{E(row.Value(m))}</td>");
            h.AppendLine("</tr>");
        }
        h.AppendLine("</tbody></table>");

        if (comparison.SideBySide is { Count: > 0 } sideBySide)
        {
            h.AppendLine("<h2>Side by side</h2>");
            foreach (var figure in sideBySide)
            {
                var full = Path.Combine(datasetFolder, figure.File);
                if (!File.Exists(full)) continue;
                h.AppendLine($"<figure class=\"wide\"><img data-comparison=\"{E(Path.GetFileNameWithoutExtension(figure.File))}\" alt=\"{E(figure.Title)}\" "
                             + $"src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(full))}\"><figcaption>{E(figure.Title)} <code>{E(figure.File)}</code></figcaption></figure>");
                h.AppendLine("<ul>");
                foreach (var sentence in figure.Sentences) h.AppendLine($"<li>{E(sentence)}</li>");
                h.AppendLine("</ul>");
            }
        }

        foreach (var pair in comparison.Pairs)
        {
            h.AppendLine($"<h2>{pair.LatentDim}-d: {E(pair.Vae)} against {E(pair.Ae)}</h2><ul>");
            foreach (var sentence in pair.Sentences) h.AppendLine($"<li>{E(sentence)}</li>");
            h.AppendLine("</ul>");
        }

        if (explorers.Count > 0)
        {
            h.AppendLine("<h2>Latent explorer</h2>");
            h.AppendLine("<p>Move the pointer over a latent plane: the point under it is decoded in this page, by the model's own decoder weights, and shown on the right. "
                         + "Under the test codes, grey lines: the contours of what the model samples from (its prior, or an autoencoder's fitted sampler) that hold 20, 40, 60 and 80 % of its mass in the plane shown.</p>");
            h.AppendLine("<div class=\"explorers\">");
            foreach (var x in explorers)
                h.AppendLine($"<div class=\"explorer\" data-model=\"{E(x.Name)}\"><h3>{E(x.Name)}</h3>"
                             + "<div class=\"pane\"><canvas class=\"plane\" width=\"320\" height=\"320\"></canvas>"
                             + "<div><canvas class=\"digit\" width=\"224\" height=\"224\"></canvas><div class=\"z\"></div><div class=\"range\"></div><div class=\"prior\"></div></div></div></div>");
            h.AppendLine("</div>");
        }

        // A model's own figure that a side-by-side figure above shows for every model is not shown twice.
        var shownAbove = (comparison.SideBySide ?? []).Where(f => File.Exists(Path.Combine(datasetFolder, f.File)))
            .SelectMany(f => f.Shows ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var m in models)
        {
            h.AppendLine($"<h2 id=\"{E(m.Name)}\">{E(m.Name)}</h2>");
            var above = m.Figures.Where(shownAbove.Contains).ToList();
            if (above.Count > 0)
                h.AppendLine($"<p class=\"meta\">Shown side by side above, so not repeated here: {string.Join(", ", above.Select(p => $"<code>{E(p)}</code>"))}.</p>");
            h.AppendLine("<div class=\"gallery\">");
            foreach (var path in m.Figures.Concat(m.Animations))
            {
                var full = Path.Combine(datasetFolder, path);
                if (!File.Exists(full) || shownAbove.Contains(path)) continue;
                string file = Path.GetFileName(path);
                string caption = Captions.GetValueOrDefault(file, file);
                if (file == "latent_evolution.gif" && evolutions.Any(e => e.Name == m.Name))
                {
                    h.AppendLine($"<figure><canvas class=\"evolution\" data-model=\"{E(m.Name)}\" width=\"{Animations.EvolutionWidth}\" height=\"{Animations.EvolutionHeight}\" "
                                 + $"role=\"img\" aria-label=\"{E(m.Name)}: {E(caption)}\"></canvas>"
                                 + $"<figcaption>{E(caption)}, drawn in this page from the codes kept after each epoch (click to pause) <code>{E(path)}</code></figcaption></figure>");
                    continue;
                }
                var (bytes, mime) = Embedded(full);
                h.AppendLine($"<figure><img alt=\"{E(m.Name)}: {E(caption)}\" src=\"data:{mime};base64,{Convert.ToBase64String(bytes)}\">"
                             + $"<figcaption>{E(caption)} <code>{E(path)}</code></figcaption></figure>");
            }
            h.AppendLine("</div>");
        }

        if (explorers.Count > 0)
        {
            var data = explorers.Select(x => new
            {
                name = x.Name,
                range = x.Range,
                points = Base64(x.Points),
                labels = Convert.ToBase64String(x.Labels),
                image = new[] { x.Image.Channels, x.Image.Height, x.Image.Width },
                layers = x.Layers.Select(l => new { kind = l.Kind, shape = l.Shape, count = l.Weight.Length, weight = PackWeights(l.Weight), bias = Base64(l.Bias), activation = l.Activation }),
                prior = x.Prior is { } p ? new { description = p.Description, grid = p.Grid, density = Base64(p.Density), levels = p.Levels, shares = p.Shares } : null,
            });
            // JSON inside <script type="application/json"> cannot end the element: '<' is escaped by the serializer.
            h.AppendLine($"<script type=\"application/json\" id=\"latentlab-explorer-data\">{JsonSerializer.Serialize(data)}</script>");
            h.AppendLine($"<script>{Script("explorer.js")}</script>");
        }
        if (evolutions.Count > 0)
        {
            var data = evolutions.Select(e => new
            {
                name = e.Name,
                epochs = e.Epochs,
                limits = e.Limits,
                tweens = e.Tweens,
                delays = new[] { Animations.EvolutionDelay * 10, Animations.EvolutionLastDelay * 10 },
                classNames = e.ClassNames,
                labels = Convert.ToBase64String(e.Labels),
                codes = PackCodes(e.Codes, e.Limits),
            });
            h.AppendLine($"<script type=\"application/json\" id=\"latentlab-evolution-data\">{JsonSerializer.Serialize(data)}</script>");
            h.AppendLine($"<script>{Script("evolution.js")}</script>");
        }
        h.AppendLine("</body></html>");
        return h.ToString();
    }

    /// <summary>The bytes the page carries for a figure: a PNG as it is; a GIF as its APNG copy (the same pixels and
    /// timing, about a third of the bytes for our sampling and interpolation animations), or as the GIF when that is
    /// smaller.</summary>
    static (byte[] Bytes, string Mime) Embedded(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (!path.EndsWith(".gif", StringComparison.OrdinalIgnoreCase)) return (bytes, "image/png");
        var apng = Apng.FromGif(path);
        return apng.Length < bytes.Length ? (apng, "image/png") : (bytes, "image/gif");
    }

    /// <summary>A layer's weights, compact: each float32 rounded to 16 significant bits (relative error at most 2^-17,
    /// far below what a pixel shows: the page's images stay within 1e-4 of the C# decoder's), its four bytes split into
    /// planes (sign and exponent bytes, which repeat, come together), deflated, base64. The explorer's weights take
    /// about half the room of plain base64 float32.</summary>
    public static string PackWeights(float[] values)
    {
        int n = values.Length;
        var planes = new byte[4 * n];
        for (int i = 0; i < n; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(values[i]);
            if ((bits & 0x7F800000) != 0x7F800000) bits = (bits + 0x80) & 0xFFFFFF00;   // round to nearest, low byte cleared
            for (int b = 0; b < 4; b++) planes[b * n + i] = (byte)(bits >> (8 * b));
        }
        return Deflate(planes);
    }

    static string Base64(float[] values) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>Snapshot codes, compact: each coordinate as a whole number of steps from its axis's smallest value, a step
    /// being 1/4096 of the plane's side (a sixth of a pixel of the page's plot; finer when the codes spread over more
    /// than 65,535 steps); after the first snapshot, as the change since the snapshot before (modulo 2^16: small once
    /// training settles); all z1 then all z2, high bytes then low bytes, deflated, base64.</summary>
    public static object PackCodes(float[][] codes, double[] limits)
    {
        int per = codes[0].Length / 2, n = codes.Length * per;
        var lo = new double[2];
        var step = new double[2];
        var planes = new byte[4 * n];
        for (int axis = 0; axis < 2; axis++)
        {
            var values = codes.SelectMany(c => Enumerable.Range(0, per).Select(i => (double)c[2 * i + axis])).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
            double min = values.Min(), max = values.Max();
            double side = Math.Max(limits[2 * axis + 1] - limits[2 * axis], 1e-9);
            lo[axis] = min;
            step[axis] = Math.Max(side / 4096, (max - min) / 65535);
            var previous = new ushort[per];
            for (int s = 0; s < codes.Length; s++)
                for (int i = 0; i < per; i++)
                {
                    double v = codes[s][2 * i + axis];
                    var q = (ushort)Math.Round(Math.Clamp(double.IsFinite(v) ? (v - min) / step[axis] : 0, 0, 65535));
                    var stored = (ushort)(s == 0 ? q : q - previous[i]);
                    previous[i] = q;
                    int k = axis * n + s * per + i;
                    planes[k] = (byte)(stored >> 8);
                    planes[2 * n + k] = (byte)stored;
                }
        }
        return new { count = per, lo, step, values = Deflate(planes) };
    }

    static string Deflate(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            deflate.Write(bytes);
        return Convert.ToBase64String(output.ToArray());
    }

    static string Script(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LatentLab.Visualization.Report." + file)
            ?? throw new InvalidOperationException($"{file} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    const string Css = """
        body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
        h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        .meta { color: #666; }
        table { border-collapse: collapse; font-size: 0.95em; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        thead th { background: #f3f3f3; }
        .explorers { display: flex; flex-wrap: wrap; gap: 2em; }
        .pane { display: flex; gap: 1em; align-items: flex-start; }
        canvas.plane { border: 1px solid #999; cursor: crosshair; }
        canvas.digit { border: 1px solid #999; image-rendering: pixelated; }
        .z { font-family: monospace; margin-top: 0.5em; }
        .range { font-size: 0.85em; color: #666; margin-top: 0.3em; max-width: 224px; }
        .gallery { display: flex; flex-wrap: wrap; gap: 1em; }
        figure { margin: 0; max-width: 100%; }
        figure img, figure canvas.evolution { max-width: 560px; width: 100%; border: 1px solid #eee; }
        canvas.evolution { display: block; cursor: pointer; }
        figure.wide img { max-width: 1150px; width: auto; }
        figcaption { font-size: 0.9em; color: #555; }
        """;
}
