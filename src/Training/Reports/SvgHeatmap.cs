namespace Orleans.MoE.Training.Reports;

/// <summary>
/// A matrix as coloured cells with row and column labels and a colour legend, on the sequential
/// viridis scale (dark = low, yellow = high). Small matrices print each value in its cell. Used for
/// the cluster-to-expert routing matrix: rows are clusters, columns experts.
/// </summary>
/// <example>
/// <code>
/// var map = new SvgHeatmap(fractions, ["cluster 0", "cluster 1"], ["expert 0", "expert 1"])
///     { Title = "Routing", RowTitle = "cluster", ColumnTitle = "expert", Min = 0, Max = 1 };
/// </code>
/// </example>
public sealed class SvgHeatmap
{
    private const double LegendGap = 24, LegendBarWidth = 16, LegendLabelWidth = 64;
    private const string MissingFill = "#D9D9D9";

    private readonly double[,] _values;

    public SvgHeatmap(double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (rowLabels.Count != values.GetLength(0))
            throw new ArgumentException($"heatmap has {values.GetLength(0)} rows but {rowLabels.Count} row labels; give one label per row");
        if (columnLabels.Count != values.GetLength(1))
            throw new ArgumentException(
                $"heatmap has {values.GetLength(1)} columns but {columnLabels.Count} column labels; give one label per column");
        _values = (double[,])values.Clone();
        RowLabels = rowLabels.ToList();
        ColumnLabels = columnLabels.ToList();
    }

    public IReadOnlyList<string> RowLabels { get; }

    public IReadOnlyList<string> ColumnLabels { get; }

    public string? Title { get; set; }

    public string? RowTitle { get; set; }

    public string? ColumnTitle { get; set; }

    /// <summary>The value drawn darkest; by default the smallest finite value. Values beyond the bounds are clamped.</summary>
    public double? Min { get; set; }

    /// <summary>The value drawn brightest; by default the largest finite value.</summary>
    public double? Max { get; set; }

    /// <summary>A .NET format string for the printed values (e.g. "0.00"); by default about four significant digits.</summary>
    public string? ValueFormat { get; set; }

    /// <summary>Prints the values in the cells; by default only when the cells are large enough to hold them.</summary>
    public bool? ShowValues { get; set; }

    private int Rows => _values.GetLength(0);

    private int Columns => _values.GetLength(1);

    /// <summary>The side of one square cell in pixels: the matrix fits in about 480 px.</summary>
    public double CellSize => Math.Clamp(Math.Floor(480.0 / Math.Max(1, Math.Max(Rows, Columns))), 6, 60);

    /// <summary>The colour scale's bounds, from <see cref="Min"/>/<see cref="Max"/> or the data; [0, 1] when there is no finite value.</summary>
    public (double Low, double High) Scale
    {
        get
        {
            var finite = _values.Cast<double>().Where(double.IsFinite).ToList();
            var low = Min ?? (finite.Count > 0 ? finite.Min() : 0);
            var high = Max ?? (finite.Count > 0 ? finite.Max() : 1);
            return (low, high);
        }
    }

    /// <summary>The cell colour of <paramref name="value"/>; grey for NaN, the middle of the scale when the scale has no width.</summary>
    public string ColourOf(double value)
    {
        if (!double.IsFinite(value)) return MissingFill;
        var (low, high) = Scale;
        return ChartColours.Sequential(high > low ? (value - low) / (high - low) : 0.5);
    }

    public string Render()
    {
        var cell = CellSize;
        var rowLabels = RowLabels.Select(l => ChartFrame.Truncate(l)).ToList();
        var columnLabels = ColumnLabels.Select(l => ChartFrame.Truncate(l)).ToList();
        var stride = ChartFrame.LabelStride(cell);
        var rowLabelWidth = rowLabels.Select(l => SvgCanvas.EstimateTextWidth(l, 11)).DefaultIfEmpty(0).Max();
        var rotateColumns = columnLabels.Any(l => SvgCanvas.EstimateTextWidth(l, 11) > cell - 4);
        // Labels rotated by 45 degrees rise about 0.71 of their length.
        var columnLabelHeight = rotateColumns ? 12 + columnLabels.Max(l => SvgCanvas.EstimateTextWidth(l, 11)) * 0.71 : 18;
        var left = (RowTitle is null ? 8 : 28) + rowLabelWidth + 8;
        var top = (Title is null ? 8 : 36) + (ColumnTitle is null ? 0 : 20) + columnLabelHeight;
        var gridWidth = Columns * cell;
        var gridHeight = Rows * cell;
        var width = Math.Max(240, left + gridWidth + LegendGap + LegendBarWidth + LegendLabelWidth);
        var height = top + Math.Max(gridHeight, 120) + 16;

        var svg = new SvgCanvas(width, height, Title);
        ChartFrame.Title(svg, Title, width);
        if (ColumnTitle is not null)
            svg.Text(left + gridWidth / 2, top - columnLabelHeight - 8, ColumnTitle, "middle", 12, cssClass: "x-title");
        if (RowTitle is not null) svg.Text(16, top + gridHeight / 2, RowTitle, "middle", 12, rotate: -90, cssClass: "y-title");
        for (var c = 0; c < Columns; c += stride)
        {
            var x = left + (c + 0.5) * cell;
            if (rotateColumns) svg.Text(x, top - 6, columnLabels[c], "start", 11, rotate: -45, cssClass: "x-tick");
            else svg.Text(x, top - 6, columnLabels[c], "middle", 11, cssClass: "x-tick");
        }
        for (var r = 0; r < Rows; r += stride)
            svg.Text(left - 6, top + (r + 0.5) * cell + 4, rowLabels[r], "end", 11, cssClass: "y-tick");

        var finite = _values.Cast<double>().Any(double.IsFinite);
        var printValues = ShowValues ?? (cell >= 30 && Rows <= 16 && Columns <= 16);
        svg.BeginGroup("cells");
        for (var r = 0; r < Rows; r++)
        for (var c = 0; c < Columns; c++)
        {
            var v = _values[r, c];
            var fill = ColourOf(v);
            var label = Markup.Number(v, ValueFormat);
            var (x, y) = (left + c * cell, top + r * cell);
            svg.Rect(x, y, cell, cell, fill, "cell", $"{RowLabels[r]} / {ColumnLabels[c]}: {label}",
                $"data-row=\"{r}\" data-column=\"{c}\"");
            if (printValues)
                svg.Text(x + cell / 2, y + cell / 2 + 4, label, "middle", Math.Min(12, cell / 3.2), ChartColours.TextOn(fill),
                    cssClass: "cell-value");
        }
        svg.EndGroup();
        if (!finite)
            ChartFrame.NoData(svg, new PlotArea(left, top, Math.Max(gridWidth, 120), Math.Max(gridHeight, 120)));
        else
            Legend(svg, left + gridWidth + LegendGap, top, Math.Clamp(gridHeight, 100, 240));
        return svg.Finish();
    }

    /// <summary>A vertical colour bar, low at the bottom, with tick labels at nice values inside the scale.</summary>
    private void Legend(SvgCanvas svg, double x, double top, double height)
    {
        const int steps = 32;
        var (low, high) = Scale;
        svg.BeginGroup("colour-legend");
        for (var i = 0; i < steps; i++)
        {
            // Band i (from the bottom) shows the colour at the middle of its slice of the scale.
            var t = (i + 0.5) / steps;
            svg.Rect(x, top + height - (i + 1) * height / steps, LegendBarWidth, height / steps + 0.5, ChartColours.Sequential(t));
        }
        if (high > low)
        {
            double YOf(double v) => top + height - (v - low) / (high - low) * height;
            void Tick(double v, string label)
            {
                svg.Line(x + LegendBarWidth, YOf(v), x + LegendBarWidth + 4, YOf(v), "#555555");
                svg.Text(x + LegendBarWidth + 7, YOf(v) + 4, label, "start", 11, cssClass: "legend-label");
            }
            // The ends are always labelled; nice values in between only where they do not crowd the ends.
            Tick(low, Markup.Number(low, ValueFormat));
            Tick(high, Markup.Number(high, ValueFormat));
            var ticks = AxisTicks.Linear(low, high, 4);
            foreach (var v in ticks.Values.Where(v => YOf(v) < YOf(low) - 18 && YOf(v) > YOf(high) + 18))
                Tick(v, ticks.Label(v));
        }
        else svg.Text(x + LegendBarWidth + 7, top + height / 2 + 4, Markup.Number(low, ValueFormat), "start", 11, cssClass: "legend-label");
        svg.EndGroup();
    }
}
