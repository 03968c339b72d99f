namespace Orleans.MoE.Training.Reports;

/// <summary>The parts the line and bar charts share: title, grid, axes with tick labels, axis titles, legend.</summary>
internal static class ChartFrame
{
    public const double LegendSwatch = 22;
    public const double LegendRowHeight = 18;
    private const string Grid = "#E4E4E4";
    private const string Axis = "#555555";

    /// <summary>The legend's width for these entry names, or 0 when there is no legend.</summary>
    public static double LegendWidth(IEnumerable<string> names)
    {
        var widest = names.Select(n => SvgCanvas.EstimateTextWidth(n)).DefaultIfEmpty(-1).Max();
        return widest < 0 ? 0 : Math.Min(260, LegendSwatch + 8 + widest + 16);
    }

    public static void Title(SvgCanvas svg, string? title, double width)
    {
        if (title is not null) svg.Text(width / 2, 22, title, "middle", 15, weight: "600", cssClass: "chart-title");
    }

    /// <summary>Horizontal grid lines and labels at the y ticks, the y axis line, and the rotated y title.</summary>
    public static void YAxis(SvgCanvas svg, PlotArea area, AxisTicks ticks, string? title)
    {
        foreach (var t in ticks.Values)
        {
            var y = area.MapY(ticks, t);
            svg.Line(area.Left, y, area.Right, y, Grid);
            svg.Text(area.Left - 6, y + 4, ticks.Label(t), "end", 11, cssClass: "y-tick");
        }
        svg.Line(area.Left, area.Top, area.Left, area.Bottom, Axis);
        if (title is not null) svg.Text(16, area.Top + area.Height / 2, title, "middle", 12, rotate: -90, cssClass: "y-title");
    }

    /// <summary>Vertical grid lines and labels at the x ticks of a numeric x axis.</summary>
    public static void NumericXAxis(SvgCanvas svg, PlotArea area, AxisTicks ticks)
    {
        foreach (var t in ticks.Values)
        {
            var x = area.MapX(ticks, t);
            svg.Line(x, area.Top, x, area.Bottom, Grid);
            svg.Text(x, area.Bottom + 16, ticks.Label(t), "middle", 11, cssClass: "x-tick");
        }
    }

    public static void XAxisLineAndTitle(SvgCanvas svg, PlotArea area, string? title)
    {
        svg.Line(area.Left, area.Bottom, area.Right, area.Bottom, Axis);
        if (title is not null) svg.Text(area.Left + area.Width / 2, area.Bottom + 38, title, "middle", 12, cssClass: "x-title");
    }

    /// <summary>A horizontal dashed line at <paramref name="line"/>'s value, labelled above its right end.</summary>
    public static void HorizontalReference(SvgCanvas svg, PlotArea area, AxisTicks ticks, ReferenceLine line)
    {
        var y = area.MapY(ticks, line.Value);
        svg.BeginGroup("reference", line.Label);
        svg.Line(area.Left, y, area.Right, y, "#B00020", 1.5, "6 4");
        svg.Text(area.Right - 4, y - 5, $"{line.Label} ({Markup.Number(line.Value)})", "end", 11, "#B00020", halo: true);
        svg.EndGroup();
    }

    /// <summary>A legend to the right of the plot area: a swatch and a name per entry.</summary>
    public static void Legend(SvgCanvas svg, PlotArea area, IReadOnlyList<(string Name, string Colour, bool Dashed, bool Bar)> entries)
    {
        svg.BeginGroup("legend");
        for (var i = 0; i < entries.Count; i++)
        {
            var (name, colour, dashed, bar) = entries[i];
            var x = area.Right + 16;
            var y = area.Top + 8 + i * LegendRowHeight;
            if (bar) svg.Rect(x, y - 6, LegendSwatch, 12, colour);
            else svg.Line(x, y, x + LegendSwatch, y, colour, 2.5, dashed ? "6 3" : null);
            svg.Text(x + LegendSwatch + 6, y + 4, name, "start", 12, cssClass: "legend-label");
        }
        svg.EndGroup();
    }

    /// <summary>Shortens a label to <paramref name="maxChars"/> characters with an ellipsis; the full text goes in tooltips.</summary>
    public static string Truncate(string text, int maxChars = 24) =>
        text.Length <= maxChars ? text : string.Concat(text.AsSpan(0, maxChars - 1), "…");

    /// <summary>Labels every n-th row or column so that labels at least 12 px apart do not overlap.</summary>
    public static int LabelStride(double spacing) => Math.Max(1, (int)Math.Ceiling(12 / spacing));

    /// <summary>A centred "no data" notice, so an empty chart says why it is empty.</summary>
    public static void NoData(SvgCanvas svg, PlotArea area) =>
        svg.Text(area.Left + area.Width / 2, area.Top + area.Height / 2, "no data", "middle", 14, "#777777", cssClass: "no-data");
}
