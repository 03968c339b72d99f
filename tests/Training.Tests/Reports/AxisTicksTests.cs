using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.Tests.Reports;

public class AxisTicksTests
{
    [Fact]
    public void TicksStepByOneTwoOrFiveTimesAPowerOfTenAndCoverTheData()
    {
        var random = new Random(1234);
        for (var trial = 0; trial < 2000; trial++)
        {
            var scale = Math.Pow(10, random.Next(-6, 9));
            var a = (random.NextDouble() * 2 - 1) * scale;
            var b = a + random.NextDouble() * scale * random.Next(1, 50);
            var ticks = AxisTicks.Linear(a, b, random.Next(3, 9));

            var mantissa = ticks.Step / Math.Pow(10, Math.Floor(Math.Log10(ticks.Step) + 1e-9));
            Assert.Contains(Math.Round(mantissa, 6), new[] { 1.0, 2.0, 5.0 });
            Assert.True(ticks.Min <= a && ticks.Max >= b, $"[{ticks.Min}, {ticks.Max}] does not cover [{a}, {b}]");
            // Tight: no whole empty step beyond the data on either side.
            Assert.True(ticks.Min > a - ticks.Step && ticks.Max < b + ticks.Step, $"[{ticks.Min}, {ticks.Max}] is loose around [{a}, {b}]");
            for (var i = 1; i < ticks.Values.Count; i++)
                Assert.Equal(ticks.Step, ticks.Values[i] - ticks.Values[i - 1], ticks.Step * 1e-6);
        }
    }

    [Theory]
    [InlineData(0, 21150, 5, 5000, 0, 25000)]
    [InlineData(4.5, 5.3, 5, 0.2, 4.4, 5.4)]
    [InlineData(0.3, 0.7, 4, 0.1, 0.3, 0.7)]
    [InlineData(-3, 7, 5, 2, -4, 8)]
    public void KnownRanges(double min, double max, int target, double step, double first, double last)
    {
        var ticks = AxisTicks.Linear(min, max, target);
        Assert.Equal(step, ticks.Step, 12);
        Assert.Equal(first, ticks.Min, 12);
        Assert.Equal(last, ticks.Max, 12);
    }

    [Fact]
    public void TickValuesAreRoundedAndLabelledWithTheStepsDecimals()
    {
        var ticks = AxisTicks.Linear(0.1, 0.7, 6);
        Assert.Equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], ticks.Values);
        Assert.Equal("0.3", ticks.Label(ticks.Values[2]));
        Assert.Equal("25,000", AxisTicks.Linear(0, 21150).Label(25000));
    }

    [Fact]
    public void ASingleValueGetsRoomOnBothSides()
    {
        var ticks = AxisTicks.Linear(4.95, 4.95);
        Assert.True(ticks.Min < 4.95 && ticks.Max > 4.95);
        var zero = AxisTicks.Linear(0, 0);
        Assert.True(zero.Min < 0 && zero.Max > 0);
    }

    [Fact]
    public void LogTicksSpanWholeDecadesThatCoverTheData()
    {
        var ticks = AxisTicks.Log(3, 4200);
        Assert.True(ticks.Logarithmic);
        Assert.Equal([1, 10, 100, 1000, 10000], ticks.Values);
        Assert.Equal(0.25, ticks.Fraction(10), 12);
        Assert.Equal(0.5, ticks.Fraction(100), 12);
    }

    [Theory]
    [InlineData(160, 360, new double[] { 100, 200, 500 })]
    [InlineData(166, 1100, new double[] { 100, 200, 500, 1000, 2000 })]
    [InlineData(0.02, 0.9, new double[] { 0.02, 0.05, 0.1, 0.2, 0.5, 1 })]
    [InlineData(100, 100, new double[] { 100, 200 })]
    public void NarrowLogRangesTickAtOneTwoFiveAndEndOnThem(double min, double max, double[] expected)
    {
        Assert.Equal(expected, AxisTicks.Log(min, max).Values);
    }

    [Fact]
    public void LogTicksCoverTheData()
    {
        var random = new Random(99);
        for (var trial = 0; trial < 1000; trial++)
        {
            var a = Math.Pow(10, random.NextDouble() * 12 - 6);
            var b = a * Math.Pow(10, random.NextDouble() * 8);
            var ticks = AxisTicks.Log(a, b);
            Assert.True(ticks.Min <= a * (1 + 1e-12) && ticks.Max >= b * (1 - 1e-12), $"[{ticks.Min}, {ticks.Max}] does not cover [{a}, {b}]");
        }
    }

    [Fact]
    public void LogAxisRejectsNonPositiveData()
    {
        var e = Assert.Throws<ArgumentException>(() => AxisTicks.Log(0, 10));
        Assert.Contains("positive", e.Message);
    }
}
