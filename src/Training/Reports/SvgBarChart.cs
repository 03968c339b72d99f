namespace Orleans.MoE.Training.Reports;

/// <summary>
/// Grouped bars: one group per category (a cluster, an expert), one bar per series in each group,
/// each bar labelled with its value. Bars grow from zero; NaN values leave a gap marked "n/a".
/// </summary>
/// <example>
/// <code>
/// var chart = new SvgBarChart(["cluster 0", "cluster 1"]) { Title = "Held-out perplexity per cluster", YTitle = "perplexity" }
///     .AddSeries("baseline", [230.3, 180.2])
///     .AddSeries("DisCo", [165.9, 170.0]);
/// </code>
/// </example>
public sealed class SvgBarChart
{
    private readonly List<(string Name, IReadOnlyList<double> Values, string? Colour)> _series = [];
    private readonly List<ReferenceLine> _horizontal = [];

    public SvgBarChart(IReadOnlyList<string> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        Categories = categories.ToList();
    }

    public IReadOnlyList<string> Categories { get; }

    public string? Title { get; set; }

    public string? XTitle { get; set; }

    public string? YTitle { get; set; }

    /// <summary>A .NET format string for the value labels (e.g. "0.0%"); by default about four significant digits.</summary>
    public string? ValueFormat { get; set; }

    /// <summary>Prints each bar's value above it when the bar is wide enough to hold it.</summary>
    public bool ShowValues { get; set; } = true;

    public double Width { get; set; } = 720;

    public double Height { get; set; } = 400;

    /// <param name="colour">a "#RRGGBB" colour; by default the next colour of <see cref="ChartColours.Categorical"/></param>
    public SvgBarChart AddSeries(string name, IReadOnlyList<double> values, string? colour = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != Categories.Count)
            throw new ArgumentException(
                $"bar series '{name}' has {values.Count} values but the chart has {Categories.Count} categories; give one value per category");
        _series.Add((name, values.ToList(), colour));
        return this;
    }

    /// <summary>A dashed line across the bars at y = <paramref name="y"/>, e.g. the uniform load 1/E.</summary>
    public SvgBarChart AddHorizontalReference(string label, double y)
    {
        _horizontal.Add(new ReferenceLine(label, y));
        return this;
    }

    private bool RotateLabels => Categories.Count > 0 &&
        Categories.Max(c => SvgCanvas.EstimateTextWidth(c, 11)) > (Width - 72 - 16) / Categories.Count * 0.9;

    /// <summary>The category label as drawn: long labels are shortened when they have to be rotated.</summary>
    private string CategoryLabel(int c) => RotateLabels ? ChartFrame.Truncate(Categories[c]) : Categories[c];

    public PlotArea PlotArea
    {
        get
        {
            var legend = _series.Count > 1 ? ChartFrame.LegendWidth(_series.Select(s => s.Name)) : 0;
            var top = Title is null ? 16 : 40;
            var left = 72.0;
            var bottom = 52.0;
            if (RotateLabels)
            {
                // Labels rotated by 40 degrees reach cos(40) of their length to the left and sin(40) down.
                var longest = Enumerable.Range(0, Categories.Count).Max(c => SvgCanvas.EstimateTextWidth(CategoryLabel(c), 11));
                bottom = 36 + longest * 0.64;
                var firstReach = SvgCanvas.EstimateTextWidth(CategoryLabel(0), 11) * 0.77;
                left = Math.Max(left, firstReach - (Width - left) / Categories.Count / 2 + 8);
            }
            return new PlotArea(left, top, Math.Max(40, Width - left - 16 - legend), Math.Max(40, Height - top - bottom));
        }
    }

    /// <summary>The value axis: it always includes zero, where the bars start.</summary>
    public AxisTicks YAxis
    {
        get
        {
            var ys = _series.SelectMany(s => s.Values).Concat(_horizontal.Select(h => h.Value)).Where(double.IsFinite).Append(0).ToList();
            return ys.Min() == ys.Max() ? AxisTicks.Linear(0, 1) : AxisTicks.Linear(ys.Min(), ys.Max(), 5);
        }
    }

    public string Render()
    {
        var svg = new SvgCanvas(Width, Height, Title);
        var area = PlotArea;
        var yAxis = YAxis;
        ChartFrame.Title(svg, Title, Width);
        ChartFrame.YAxis(svg, area, yAxis, YTitle);

        var hasData = _series.SelectMany(s => s.Values).Any(double.IsFinite);
        if (!hasData) ChartFrame.NoData(svg, area);
        var groupWidth = Categories.Count == 0 ? area.Width : area.Width / Categories.Count;
        var barWidth = groupWidth * 0.8 / Math.Max(1, _series.Count);
        var zero = area.MapY(yAxis, 0);
        // Value labels are drawn last, with a halo, so reference lines do not strike through them.
        var labels = new List<(double X, double Y, string Text, string Fill)>();

        for (var c = 0; c < Categories.Count; c++)
        {
            var centre = area.Left + (c + 0.5) * groupWidth;
            var labelY = area.Bottom + 16;
            if (RotateLabels) svg.Text(centre, labelY, CategoryLabel(c), "end", 11, rotate: -40, cssClass: "x-tick");
            else svg.Text(centre, labelY, Categories[c], "middle", 11, cssClass: "x-tick");
        }

        for (var s = 0; s < _series.Count; s++)
        {
            var (name, values, own) = _series[s];
            var colour = own ?? ChartColours.Series(s);
            svg.BeginGroup("series", name);
            for (var c = 0; c < values.Count; c++)
            {
                var x = area.Left + c * groupWidth + groupWidth * 0.1 + s * barWidth;
                var v = values[c];
                var label = Markup.Number(v, ValueFormat);
                // Only labels that fit over their own bar: wider ones would run into the neighbours' labels.
                var showLabel = ShowValues && barWidth >= SvgCanvas.EstimateTextWidth(double.IsFinite(v) ? label : "n/a", 10) + 2;
                if (!double.IsFinite(v))
                {
                    if (showLabel) labels.Add((x + barWidth / 2, zero - 4, "n/a", "#777777"));
                    continue;
                }
                var top = area.MapY(yAxis, v);
                svg.Rect(x + 1, Math.Min(top, zero), barWidth - 2, Math.Abs(zero - top), colour, "bar",
                    $"{name} / {Categories[c]}: {label}");
                if (showLabel) labels.Add((x + barWidth / 2, v >= 0 ? top - 4 : top + 12, label, "#222222"));
            }
            svg.EndGroup();
        }

        foreach (var h in _horizontal.Where(h => hasData && double.IsFinite(h.Value)))
            ChartFrame.HorizontalReference(svg, area, yAxis, h);
        foreach (var (x, y, text, fill) in labels) svg.Text(x, y, text, "middle", 10, fill, cssClass: "bar-value", halo: true);
        // The axis line goes through zero, which is not the bottom when some values are negative.
        svg.Line(area.Left, zero, area.Right, zero, "#555555");
        if (XTitle is not null) svg.Text(area.Left + area.Width / 2, Height - 10, XTitle, "middle", 12, cssClass: "x-title");
        if (_series.Count > 1)
            ChartFrame.Legend(svg, area, _series.Select((x, i) => (x.Name, x.Colour ?? ChartColours.Series(i), false, true)).ToList());
        return svg.Finish();
    }
}
