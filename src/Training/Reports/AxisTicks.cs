using System.Globalization;

namespace Orleans.MoE.Training.Reports;

/// <summary>
/// The ticks of one chart axis and the range they span. Linear axes step by 1, 2 or 5 times a power
/// of ten and start and end on a tick, so the range covers the data; logarithmic axes tick at 1, 2
/// and 5 times powers of ten, or at whole decades when the data spans more than three.
/// </summary>
public sealed class AxisTicks
{
    private AxisTicks(IReadOnlyList<double> values, double step, bool logarithmic)
    {
        Values = values;
        Step = step;
        Logarithmic = logarithmic;
    }

    /// <summary>The tick positions in data units, ascending; the first and last are the axis range.</summary>
    public IReadOnlyList<double> Values { get; }

    /// <summary>The distance between ticks (linear axes); for a logarithmic axis, the ratio between decades shown.</summary>
    public double Step { get; }

    public bool Logarithmic { get; }

    public double Min => Values[0];

    public double Max => Values[^1];

    /// <summary>Ticks for data in [<paramref name="dataMin"/>, <paramref name="dataMax"/>], about <paramref name="targetCount"/> intervals.</summary>
    public static AxisTicks Linear(double dataMin, double dataMax, int targetCount = 5)
    {
        if (!double.IsFinite(dataMin) || !double.IsFinite(dataMax))
            throw new ArgumentException($"axis range must be finite, got [{dataMin}, {dataMax}]");
        ArgumentOutOfRangeException.ThrowIfLessThan(targetCount, 1);
        if (dataMin > dataMax) (dataMin, dataMax) = (dataMax, dataMin);
        if (dataMin == dataMax)
        {
            // A single value: give it room on both sides instead of a zero-width axis.
            var pad = dataMin == 0 ? 1 : Math.Abs(dataMin) * 0.1;
            dataMin -= pad;
            dataMax += pad;
        }

        var step = NiceStep((dataMax - dataMin) / targetCount);
        var decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 15);
        double Tick(long k) => Math.Round(k * step, decimals);
        var first = (long)Math.Floor(dataMin / step);
        var last = (long)Math.Ceiling(dataMax / step);
        // Division rounds (0.3 / 0.1 = 2.9999999999999996), so step in when the rounded tick still covers the data.
        if (Tick(first + 1) <= dataMin) first++;
        if (Tick(last - 1) >= dataMax) last--;
        var values = new List<double>();
        for (var k = first; k <= last; k++) values.Add(Tick(k));
        return new AxisTicks(values, step, logarithmic: false);
    }

    /// <summary>
    /// Ticks for positive data in [<paramref name="dataMin"/>, <paramref name="dataMax"/>] on a
    /// logarithmic axis. Data spanning up to three decades gets the 1-2-5 sequence (100, 200, 500, 1000),
    /// starting and ending on one of its values; wider data gets whole decades only.
    /// </summary>
    public static AxisTicks Log(double dataMin, double dataMax)
    {
        if (!double.IsFinite(dataMin) || !double.IsFinite(dataMax) || dataMin <= 0 || dataMax <= 0)
            throw new ArgumentException($"a logarithmic axis needs positive finite data, got [{dataMin}, {dataMax}]");
        if (dataMin > dataMax) (dataMin, dataMax) = (dataMax, dataMin);
        var low = (int)Math.Floor(Math.Log10(dataMin) + 1e-12);
        var high = (int)Math.Ceiling(Math.Log10(dataMax) - 1e-12);
        if (high <= low) high = low + 1;

        if (Math.Log10(dataMax / dataMin) <= 3)
        {
            var sequence = Enumerable.Range(low, high - low + 1)
                .SelectMany(d => new[] { Decade(d), 2 * Decade(d), 5 * Decade(d) })
                .ToList();
            var first = sequence.FindLastIndex(v => v <= dataMin * (1 + 1e-12));
            var last = sequence.FindIndex(v => v >= dataMax * (1 - 1e-12));
            if (last <= first) last = first + 1;
            return new AxisTicks(sequence.GetRange(first, last - first + 1), 10, logarithmic: true);
        }

        var decades = high - low;
        var stride = Math.Max(1, (int)Math.Ceiling(decades / 10.0));
        if (decades % stride != 0) high = low + (decades / stride + 1) * stride;
        var values = new List<double>();
        for (var d = low; d <= high; d += stride) values.Add(Decade(d));
        return new AxisTicks(values, Math.Pow(10, stride), logarithmic: true);
    }

    /// <summary>Where <paramref name="value"/> lies along the axis: 0 at <see cref="Min"/>, 1 at <see cref="Max"/>.</summary>
    public double Fraction(double value) => Logarithmic
        ? (Math.Log10(value) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
        : (value - Min) / (Max - Min);

    /// <summary>The tick's label, with as many decimals as the step needs.</summary>
    public string Label(double value)
    {
        if (Logarithmic) return Markup.Number(value);
        var decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(Step) + 1e-9), 0, 15);
        return value.ToString(decimals == 0 ? "#,0" : "#,0." + new string('0', decimals), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The step of the form 1, 2, 5 or 10 times a power of ten nearest to <paramref name="rough"/> on a
    /// log scale, so the tick count lands near the target instead of always at or below it.
    /// </summary>
    internal static double NiceStep(double rough)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var normalized = rough / magnitude;
        var mantissa = normalized < Math.Sqrt(2) ? 1 : normalized < Math.Sqrt(10) ? 2 : normalized < Math.Sqrt(50) ? 5 : 10;
        return mantissa * magnitude;
    }

    // 10^d computed by parsing, so 1e-3 is the double closest to 0.001 rather than Math.Pow's result.
    private static double Decade(int d) => double.Parse("1e" + d.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
