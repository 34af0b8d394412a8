using ScottPlot;
using SkiaSharp;

namespace LatentLab.Visualization;

/// <summary>The look shared by every figure: the bundled DejaVu Sans font, readable sizes, one colour per class.</summary>
public static class Theme
{
    public const string FontName = "DejaVu Sans";
    public const float TitleSize = 20;
    public const float LabelSize = 16;
    public const float TickSize = 13;

    static readonly Lazy<(SKTypeface Regular, SKTypeface Bold)> Typefaces = new(() =>
    {
        string Find(string file) => Path.Combine(AppContext.BaseDirectory, "Fonts", file) is var p && File.Exists(p)
            ? p : throw new LatentLabException($"font file missing: {p} (the build copies it from src/LatentLab.Visualization/Fonts)");
        string regular = Find("DejaVuSans.ttf"), bold = Find("DejaVuSans-Bold.ttf");
        Fonts.AddFontFile(FontName, regular, bold: false, italic: false);
        Fonts.AddFontFile(FontName, bold, bold: true, italic: false);
        Fonts.Default = FontName;
        return (SKTypeface.FromFile(regular), SKTypeface.FromFile(bold));
    });

    /// <summary>Registers the bundled font with ScottPlot (once) and returns it for direct SkiaSharp drawing.</summary>
    public static SKTypeface Regular => Typefaces.Value.Regular;
    public static SKTypeface Bold => Typefaces.Value.Bold;

    /// <summary>The colour of class <paramref name="label"/> (Category10, as matplotlib's tab10).</summary>
    public static Color ClassColor(int label) => new ScottPlot.Palettes.Category10().GetColor(label);

    /// <summary>A plot with the title, axis labels and font sizes every figure uses.</summary>
    public static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        _ = Typefaces.Value;
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title, TitleSize);
        plot.XLabel(xLabel, LabelSize);
        plot.YLabel(yLabel, LabelSize);
        plot.Axes.Bottom.TickLabelStyle.FontSize = TickSize;
        plot.Axes.Left.TickLabelStyle.FontSize = TickSize;
        return plot;
    }

    /// <summary>Text drawn directly on a canvas (frame titles of animations, panel captions).</summary>
    public static SKFont Font(float size, bool bold = false) => new(bold ? Bold : Regular, size);
}
