namespace Orleans.MoE.Training.Reports;

/// <summary>The rectangle, in SVG pixels, inside a chart's axes where the data is drawn.</summary>
public readonly record struct PlotArea(double Left, double Top, double Width, double Height)
{
    public double Right => Left + Width;

    public double Bottom => Top + Height;

    /// <summary>The pixel column of <paramref name="x"/> on an axis spanning the area's width.</summary>
    public double MapX(AxisTicks axis, double x) => Left + axis.Fraction(x) * Width;

    /// <summary>The pixel row of <paramref name="y"/>: SVG's y grows downwards, so larger values sit higher.</summary>
    public double MapY(AxisTicks axis, double y) => Bottom - axis.Fraction(y) * Height;
}
