using Orleans.MoE.Training.Reports;
using static Orleans.MoE.Training.Tests.Reports.SvgAssert;

namespace Orleans.MoE.Training.Tests.Reports;

public class SvgBarChartTests
{
    [Fact]
    public void BarHeightsAreProportionalToTheValuesFromZero()
    {
        var chart = new SvgBarChart(["c0", "c1", "c2"]).AddSeries("load", [1, 2, 4]);
        var root = Parse(chart.Render());
        var bars = WithClass(root, "rect", "bar").ToList();
        Assert.Equal(3, bars.Count);
        var heights = bars.Select(b => Attr(b, "height")).ToList();
        Assert.Equal(2 * heights[0], heights[1], 0.02);
        Assert.Equal(4 * heights[0], heights[2], 0.02);
        // Every bar stands on the zero line, which is the bottom of the plot area here.
        Assert.All(bars, b => Assert.Equal(chart.PlotArea.Bottom, Attr(b, "y") + Attr(b, "height"), 0.02));
        Assert.Equal(["1", "2", "4"], WithClass(root, "text", "bar-value").Select(t => t.Value));
    }

    [Fact]
    public void GroupedSeriesSitSideBySideWithinTheirCategory()
    {
        var chart = new SvgBarChart(["cluster <0>", "cluster 1"]).AddSeries("baseline", [230.32, 162.51]).AddSeries("DisCo", [165.86, 134.31]);
        var root = Parse(chart.Render());
        var baseline = Group(root, "series", "baseline").Elements(Svg + "rect").ToList();
        var disco = Group(root, "series", "DisCo").Elements(Svg + "rect").ToList();
        var groupWidth = chart.PlotArea.Width / 2;
        for (var c = 0; c < 2; c++)
        {
            Assert.True(Attr(baseline[c], "x") < Attr(disco[c], "x"));
            Assert.InRange(Attr(disco[c], "x") + Attr(disco[c], "width"), 0, chart.PlotArea.Left + (c + 1) * groupWidth);
            Assert.InRange(Attr(baseline[c], "x"), chart.PlotArea.Left + c * groupWidth, double.MaxValue);
        }
        Assert.Equal("baseline / cluster <0>: 230.3", baseline[0].Element(Svg + "title")!.Value);
        Assert.Contains("cluster <0>", Texts(root).Select(t => t.Value));
        Assert.Equal(["baseline", "DisCo"], WithClass(root, "text", "legend-label").Select(t => t.Value));
    }

    [Fact]
    public void ASeriesColourColoursItsBarsAndItsLegendSwatch()
    {
        var chart = new SvgBarChart(["a", "b"]).AddSeries("baseline", [1, 2], "#0072B2").AddSeries("DisCo", [2, 1], "#D55E00");
        var root = Parse(chart.Render());
        Assert.All(Group(root, "series", "DisCo").Elements(Svg + "rect"), r => Assert.Equal("#D55E00", (string?)r.Attribute("fill")));
        var swatches = root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend").Elements(Svg + "rect");
        Assert.Equal(["#0072B2", "#D55E00"], swatches.Select(r => (string?)r.Attribute("fill")));
    }

    [Fact]
    public void ValueLabelsWiderThanTheirBarAreLeftOutAndTheRestSitOverTheReferenceLine()
    {
        // Twelve bars beside a legend in 720 px are about 36 px wide: "0.25" fits, "123456.78" does not.
        var categories = Enumerable.Range(0, 4).Select(c => $"c{c}").ToList();
        var chart = new SvgBarChart(categories) { ValueFormat = "0.00" }
            .AddSeries("narrow", [0.25, 0.26, 0.24, 0.25]).AddSeries("wide", [123456.78, 1, 1, 1]).AddSeries("third", [0.1, 0.2, 0.3, 0.4])
            .AddHorizontalReference("1/E", 0.25);
        var root = Parse(chart.Render());
        var values = WithClass(root, "text", "bar-value").Select(t => t.Value).ToList();
        Assert.Contains("0.25", values);
        Assert.DoesNotContain("123456.78", values);
        // Drawn after the reference line, so its dashes do not strike through them.
        var order = root.Descendants().ToList();
        var reference = order.IndexOf(Group(root, "reference", "1/E"));
        Assert.All(WithClass(root, "text", "bar-value"), t => Assert.True(order.IndexOf(t) > reference));
    }

    [Fact]
    public void NegativeValuesHangBelowTheZeroLine()
    {
        var chart = new SvgBarChart(["a", "b"]).AddSeries("delta", [3, -2]);
        var root = Parse(chart.Render());
        var zero = chart.PlotArea.MapY(chart.YAxis, 0);
        var bars = WithClass(root, "rect", "bar").ToList();
        Assert.Equal(zero, Attr(bars[0], "y") + Attr(bars[0], "height"), 0.02);
        Assert.Equal(zero, Attr(bars[1], "y"), 0.02);
    }

    [Fact]
    public void NaNValuesLeaveAGapAndAnAllMissingChartSaysNoData()
    {
        var partly = Parse(new SvgBarChart(["a", "b"]).AddSeries("s", [1, double.NaN]).Render());
        Assert.Single(WithClass(partly, "rect", "bar"));
        Assert.Contains("n/a", WithClass(partly, "text", "bar-value").Select(t => t.Value));

        var none = Parse(new SvgBarChart(["a"]).AddSeries("s", [double.NaN]).Render());
        Assert.Single(WithClass(none, "text", "no-data"));
        Assert.Single(WithClass(Parse(new SvgBarChart([]).Render()), "text", "no-data"));
    }

    [Fact]
    public void AReferenceLineMarksTheUniformLoad()
    {
        var chart = new SvgBarChart(["e0", "e1", "e2", "e3"]).AddSeries("load", [0.4, 0.3, 0.2, 0.1]).AddHorizontalReference("uniform", 0.25);
        var line = Group(Parse(chart.Render()), "reference", "uniform").Element(Svg + "line")!;
        Assert.Equal(chart.PlotArea.MapY(chart.YAxis, 0.25), Attr(line, "y1"), 0.01);
    }

    [Fact]
    public void ASeriesOfTheWrongLengthIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new SvgBarChart(["a", "b"]).AddSeries("ppl", [1]));
        Assert.Contains("'ppl'", e.Message);
        Assert.Contains("2 categories", e.Message);
    }
}
