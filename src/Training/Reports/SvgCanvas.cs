using System.Text;
using static Orleans.MoE.Training.Reports.Markup;

namespace Orleans.MoE.Training.Reports;

/// <summary>
/// Writes the SVG elements the charts need. Every text and attribute value goes through
/// <see cref="Markup.Escape"/>, so labels cannot break the markup. The root has a viewBox, so the
/// picture scales to its container.
/// </summary>
internal sealed class SvgCanvas
{
    public const string FontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

    private readonly StringBuilder _sb = new();

    public SvgCanvas(double width, double height, string? title)
    {
        _sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").Append(Coordinate(width)).Append(' ')
            .Append(Coordinate(height)).Append("\" width=\"").Append(Coordinate(width)).Append("\" height=\"")
            .Append(Coordinate(height)).Append("\" role=\"img\" font-family=\"").Append(Escape(FontFamily))
            .Append("\" font-size=\"12\">\n");
        if (title is not null) _sb.Append("<title>").Append(Escape(title)).Append("</title>\n");
        Rect(0, 0, width, height, "#FFFFFF");
    }

    public void Line(double x1, double y1, double x2, double y2, string stroke, double width = 1, string? dash = null, string? cssClass = null)
    {
        _sb.Append("<line").Class(cssClass).Attr("x1", x1).Attr("y1", y1).Attr("x2", x2).Attr("y2", y2)
            .Attr("stroke", stroke).Attr("stroke-width", width);
        if (dash is not null) _sb.Attr("stroke-dasharray", dash);
        _sb.Append("/>\n");
    }

    /// <param name="tooltip">shown on hover; also makes the value readable to screen readers</param>
    public void Rect(double x, double y, double width, double height, string fill, string? cssClass = null, string? tooltip = null,
        string? extraAttributes = null)
    {
        _sb.Append("<rect").Class(cssClass).Attr("x", x).Attr("y", y).Attr("width", Math.Max(0, width))
            .Attr("height", Math.Max(0, height)).Attr("fill", fill);
        if (extraAttributes is not null) _sb.Append(' ').Append(extraAttributes);
        if (tooltip is null) _sb.Append("/>\n");
        else _sb.Append("><title>").Append(Escape(tooltip)).Append("</title></rect>\n");
    }

    public void Circle(double cx, double cy, double r, string fill)
    {
        _sb.Append("<circle").Attr("cx", cx).Attr("cy", cy).Attr("r", r).Attr("fill", fill).Append("/>\n");
    }

    public void Polyline(IEnumerable<(double X, double Y)> pixels, string stroke, double width, string? dash)
    {
        _sb.Append("<polyline points=\"");
        var first = true;
        foreach (var (x, y) in pixels)
        {
            if (!first) _sb.Append(' ');
            _sb.Append(Coordinate(x)).Append(',').Append(Coordinate(y));
            first = false;
        }
        _sb.Append('"').Attr("fill", "none").Attr("stroke", stroke).Attr("stroke-width", width)
            .Attr("stroke-linejoin", "round");
        if (dash is not null) _sb.Attr("stroke-dasharray", dash);
        _sb.Append("/>\n");
    }

    /// <param name="anchor">start, middle or end</param>
    /// <param name="rotate">degrees, about the text's anchor point</param>
    public void Text(double x, double y, string text, string anchor = "start", double size = 12, string fill = "#222222",
        string? weight = null, double rotate = 0, string? cssClass = null, bool halo = false)
    {
        _sb.Append("<text").Class(cssClass).Attr("x", x).Attr("y", y).Attr("text-anchor", anchor).Attr("font-size", size)
            .Attr("fill", fill);
        if (weight is not null) _sb.Attr("font-weight", weight);
        // A white outline under the glyphs keeps labels readable where they cross lines.
        if (halo) _sb.Attr("stroke", "#FFFFFF").Attr("stroke-width", 3).Attr("paint-order", "stroke").Attr("stroke-linejoin", "round");
        if (rotate != 0)
            _sb.Append(" transform=\"rotate(").Append(Coordinate(rotate)).Append(' ').Append(Coordinate(x)).Append(' ')
                .Append(Coordinate(y)).Append(")\"");
        _sb.Append('>').Append(Escape(text)).Append("</text>\n");
    }

    /// <summary>Opens a group; <paramref name="label"/> is kept as a data attribute so the series can be found in the file.</summary>
    public void BeginGroup(string cssClass, string? label = null)
    {
        _sb.Append("<g").Class(cssClass);
        if (label is not null) _sb.Append(" data-label=\"").Append(Escape(label)).Append('"');
        _sb.Append(">\n");
    }

    public void EndGroup() => _sb.Append("</g>\n");

    public string Finish() => _sb.Append("</svg>\n").ToString();

    /// <summary>The rough width of <paramref name="text"/> at <paramref name="size"/> px, for laying out margins without a font engine.</summary>
    public static double EstimateTextWidth(string text, double size = 12) => text.Length * size * 0.6;
}

internal static class SvgAttributeExtensions
{
    public static StringBuilder Attr(this StringBuilder sb, string name, double value) =>
        sb.Append(' ').Append(name).Append("=\"").Append(Coordinate(value)).Append('"');

    public static StringBuilder Attr(this StringBuilder sb, string name, string value) =>
        sb.Append(' ').Append(name).Append("=\"").Append(Escape(value)).Append('"');

    public static StringBuilder Class(this StringBuilder sb, string? cssClass) =>
        cssClass is null ? sb : sb.Attr("class", cssClass);
}
