namespace Orleans.MoE.Training.Reports;

/// <summary>
/// One named curve. Points whose x or y is NaN or infinite (or whose y is not positive on a
/// logarithmic axis) are left out and break the line there, so a gap in the data shows as a gap.
/// </summary>
/// <param name="Dashed">draws the line dashed, e.g. to tell one phase of a run from another in the same colour family</param>
/// <param name="Colour">a "#RRGGBB" colour; by default the next colour of <see cref="ChartColours.Categorical"/></param>
public sealed record LineSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false, string? Colour = null)
{
    /// <summary>Builds a series from parallel x and y lists.</summary>
    public static LineSeries FromColumns(string name, IReadOnlyList<double> xs, IReadOnlyList<double> ys, bool dashed = false)
    {
        if (xs.Count != ys.Count)
            throw new ArgumentException($"series '{name}': {xs.Count} x values but {ys.Count} y values; give one y per x");
        return new LineSeries(name, xs.Zip(ys).ToList(), dashed);
    }
}
