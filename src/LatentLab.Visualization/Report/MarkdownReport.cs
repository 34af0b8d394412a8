using System.Text;

namespace LatentLab.Visualization.Report;

/// <summary>report.md: the metric table, the findings of each VAE/AE pair, and links to the figures.</summary>
public static class MarkdownReport
{
    public const string FileName = "report.md";

    public static string Render(Comparison comparison)
    {
        var models = Table.Ordered(comparison.Models);
        var md = new StringBuilder();
        md.AppendLine($"# LatentLab: {string.Join(", ", models.Select(m => m.Name))} on {comparison.Dataset}");
        md.AppendLine();
        md.AppendLine($"Generated {comparison.CreatedUtc:yyyy-MM-dd HH:mm} UTC by `latent compare`, from the files in each model's folder "
                      + $"({Comparison.FileName} holds every number). Test split: {models.FirstOrDefault()?.Metrics.TestImages:N0} images.");
        md.AppendLine();
        md.AppendLine("## Metrics");
        md.AppendLine();
        md.AppendLine($"| metric | unit | better | {string.Join(" | ", models.Select(m => m.Name))} |");
        md.AppendLine($"| --- | --- | --- |{string.Concat(models.Select(_ => " ---: |"))}");
        foreach (var row in Table.Rows)
            md.AppendLine($"| {Cell(row.Metric)} | {row.Unit} | {row.Better} | {string.Join(" | ", models.Select(m => Cell(row.Value(m))))} |");
        md.AppendLine();
        if (comparison.SideBySide is { Count: > 0 } sideBySide)
        {
            md.AppendLine("## Side by side");
            md.AppendLine();
            foreach (var figure in sideBySide)
            {
                md.AppendLine($"![{figure.Title}]({figure.File})");
                md.AppendLine();
                foreach (var sentence in figure.Sentences) md.AppendLine($"- {sentence}");
                md.AppendLine();
            }
        }
        foreach (var pair in comparison.Pairs)
        {
            md.AppendLine($"## {pair.LatentDim}-d: {pair.Vae} against {pair.Ae}");
            md.AppendLine();
            foreach (var sentence in pair.Sentences) md.AppendLine($"- {sentence}");
            md.AppendLine();
        }
        md.AppendLine("## Figures");
        md.AppendLine();
        foreach (var m in models)
        {
            md.AppendLine($"### {m.Name}");
            md.AppendLine();
            foreach (var path in m.Figures.Concat(m.Animations))
                md.AppendLine($"- [{Path.GetFileName(path)}]({path})");
            var scatter = m.Figures.FirstOrDefault(f => f.EndsWith("/latent_scatter.png", StringComparison.Ordinal));
            if (scatter is not null)
            {
                md.AppendLine();
                md.AppendLine($"![{m.Name} latent space]({scatter})");
            }
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>A table cell: a '|' in the text would end the cell.</summary>
    static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
