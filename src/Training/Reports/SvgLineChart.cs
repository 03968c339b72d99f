namespace Orleans.MoE.Training.Reports;

/// <summary>
/// A line chart of named series of (x, y) points, rendered as a self-contained SVG: nice 1-2-5 ticks
/// (or decades on a logarithmic y axis), grid, axis titles, a legend, Okabe-Ito colours, and
/// optional labelled reference lines (a target loss across, phase boundaries down).
/// </summary>
/// <example>
/// <code>
/// var chart = new SvgLineChart { Title = "Training loss", XTitle = "step", YTitle = "loss" }
///     .Add(new LineSeries("baseline", baselinePoints))
///     .Add(new LineSeries("DisCo fine-tune", finePoints))
///     .AddHorizontalReference("target loss", 4.954);
/// string svg = chart.Render();
/// </code>
/// </example>
public sealed class SvgLineChart
{
    /// <summary>Series with at most this many points get a dot on every point, so sparse data (one value per phase) is visible.</summary>
    public const int MarkerThreshold = 24;

    private readonly List<LineSeries> _series = [];
    private readonly List<ReferenceLine> _horizontal = [];
    private readonly List<ReferenceLine> _vertical = [];

    public string? Title { get; set; }

    public string? XTitle { get; set; }

    public string? YTitle { get; set; }

    /// <summary>Plots y on a base-10 logarithmic axis; points with y &lt;= 0 are then left out.</summary>
    public bool LogY { get; set; }

    /// <summary>The SVG's intrinsic size in pixels; it scales through its viewBox.</summary>
    public double Width { get; set; } = 720;

    public double Height { get; set; } = 400;

    public IReadOnlyList<LineSeries> Series => _series;

    public SvgLineChart Add(LineSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        _series.Add(series);
        return this;
    }

    /// <summary>A dashed line across the plot at y = <paramref name="y"/>, e.g. the target loss.</summary>
    public SvgLineChart AddHorizontalReference(string label, double y)
    {
        _horizontal.Add(new ReferenceLine(label, y));
        return this;
    }

    /// <summary>A dashed line down the plot at x = <paramref name="x"/>, e.g. where fine-tuning starts.</summary>
    public SvgLineChart AddVerticalMarker(string label, double x)
    {
        _vertical.Add(new ReferenceLine(label, x));
        return this;
    }

    /// <summary>Whether the point can be drawn on this chart's axes.</summary>
    public bool IsPlottable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!LogY || y > 0);

    /// <summary>The plot rectangle: 72 px left for the y labels and title, 52 px below for the x axis, the legend on the right.</summary>
    public PlotArea PlotArea
    {
        get
        {
            var legend = ChartFrame.LegendWidth(_series.Select(LegendName));
            var top = Title is null ? 16 : 40;
            return new PlotArea(72, top, Math.Max(40, Width - 72 - 16 - legend), Math.Max(40, Height - top - 52));
        }
    }

    /// <summary>The x axis: ticks covering every plottable point and vertical marker; [0, 1] when there is none.</summary>
    public AxisTicks XAxis
    {
        get
        {
            var xs = PlottablePoints().Select(p => p.X).Concat(_vertical.Select(v => v.Value).Where(double.IsFinite)).ToList();
            return xs.Count == 0 ? AxisTicks.Linear(0, 1) : AxisTicks.Linear(xs.Min(), xs.Max(), 6);
        }
    }

    /// <summary>The y axis: ticks covering every plottable point and horizontal reference.</summary>
    public AxisTicks YAxis
    {
        get
        {
            var ys = PlottablePoints().Select(p => p.Y)
                .Concat(_horizontal.Select(h => h.Value).Where(v => IsPlottable(0, v))).ToList();
            if (ys.Count == 0) return LogY ? AxisTicks.Log(1, 10) : AxisTicks.Linear(0, 1);
            return LogY ? AxisTicks.Log(ys.Min(), ys.Max()) : AxisTicks.Linear(ys.Min(), ys.Max(), 5);
        }
    }

    public string Render()
    {
        var svg = new SvgCanvas(Width, Height, Title);
        var area = PlotArea;
        var (xAxis, yAxis) = (XAxis, YAxis);
        ChartFrame.Title(svg, Title, Width);
        ChartFrame.YAxis(svg, area, yAxis, YTitle);
        ChartFrame.NumericXAxis(svg, area, xAxis);
        ChartFrame.XAxisLineAndTitle(svg, area, XTitle);

        var hasData = PlottablePoints().Any();
        if (!hasData) ChartFrame.NoData(svg, area);
        var legend = new List<(string, string, bool, bool)>();
        for (var i = 0; i < _series.Count; i++)
        {
            var s = _series[i];
            var colour = s.Colour ?? ChartColours.Series(i);
            // Once the palette repeats, flip the dash so the repeated colour still reads as a different series;
            // a series given its own colour keeps its own dash.
            var dashed = s.Dashed ^ (s.Colour is null && i / ChartColours.Categorical.Count % 2 == 1);
            legend.Add((LegendName(s), colour, dashed, false));
            svg.BeginGroup("series", s.Name);
            var plottable = s.Points.Count(p => IsPlottable(p.X, p.Y));
            foreach (var segment in Segments(s))
            {
                var pixels = segment.Select(p => (area.MapX(xAxis, p.X), area.MapY(yAxis, p.Y))).ToList();
                if (pixels.Count > 1) svg.Polyline(pixels, colour, 2, dashed ? "6 3" : null);
                if (pixels.Count == 1 || plottable <= MarkerThreshold)
                    foreach (var (px, py) in pixels) svg.Circle(px, py, 3, colour);
            }
            svg.EndGroup();
        }
        // Reference lines go over the data, so their labels stay readable.
        foreach (var h in _horizontal.Where(h => hasData && IsPlottable(0, h.Value)))
            ChartFrame.HorizontalReference(svg, area, yAxis, h);
        foreach (var v in _vertical.Where(v => hasData && double.IsFinite(v.Value)))
        {
            var x = area.MapX(xAxis, v.Value);
            svg.BeginGroup("marker", v.Label);
            svg.Line(x, area.Top, x, area.Bottom, "#666666", 1.2, "4 4");
            // Right of the line, unless the label would run past the plot into the legend.
            var fitsRight = x + 4 + SvgCanvas.EstimateTextWidth(v.Label, 11) <= area.Right;
            svg.Text(fitsRight ? x + 4 : x - 4, area.Top + 12, v.Label, fitsRight ? "start" : "end", 11, "#444444", halo: true);
            svg.EndGroup();
        }

        if (legend.Count > 0) ChartFrame.Legend(svg, area, legend);
        return svg.Finish();
    }

    private string LegendName(LineSeries s) => s.Points.Any(p => IsPlottable(p.X, p.Y)) ? s.Name : s.Name + " (no data)";

    private IEnumerable<(double X, double Y)> PlottablePoints() =>
        _series.SelectMany(s => s.Points).Where(p => IsPlottable(p.X, p.Y));

    /// <summary>The runs of consecutive plottable points; an unplottable point ends a run.</summary>
    private IEnumerable<List<(double X, double Y)>> Segments(LineSeries series)
    {
        var run = new List<(double X, double Y)>();
        foreach (var p in series.Points)
        {
            if (IsPlottable(p.X, p.Y))
            {
                run.Add(p);
                continue;
            }
            if (run.Count > 0) yield return run;
            run = [];
        }
        if (run.Count > 0) yield return run;
    }
}
