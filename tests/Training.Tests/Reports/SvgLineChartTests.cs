using Orleans.MoE.Training.Reports;
using static Orleans.MoE.Training.Tests.Reports.SvgAssert;

namespace Orleans.MoE.Training.Tests.Reports;

public class SvgLineChartTests
{
    private const string Nasty = "loss <&> \"quoted\" 'single'";

    [Fact]
    public void PointsLandWhereTheAxisMappingPutsThem()
    {
        // x ticks 0..20 step 5 and y ticks 0..10 step 2, so the data spans the whole plot area.
        var chart = new SvgLineChart().Add(new LineSeries("a", [(0, 0), (10, 5), (20, 10)]));
        // 720 wide: 72 left margin, 16 + legend on the right (swatch 22 + gap 8 + "a" 7.2 + 16); 400 high: 16 top, 52 bottom.
        var area = chart.PlotArea;
        Assert.Equal((72.0, 16.0), (area.Left, area.Top));
        Assert.Equal(578.8, area.Width, 1e-9);
        Assert.Equal(332, area.Height, 1e-9);

        var root = Parse(chart.Render());
        var points = PolylinePoints(Group(root, "series", "a").Element(Svg + "polyline")!);
        (double X, double Y)[] expected = [(72, 348), (361.4, 182), (650.8, 16)];
        Assert.Equal(expected.Length, points.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].X, points[i].X, 1e-9);
            Assert.Equal(expected[i].Y, points[i].Y, 1e-9);
        }
    }

    [Fact]
    public void LogScalePlacesDecadesEvenly()
    {
        var chart = new SvgLineChart { LogY = true }.Add(new LineSeries("ppl", [(0, 1), (1, 10), (2, 100), (3, 1000)]));
        var root = Parse(chart.Render());
        var ys = PolylinePoints(Group(root, "series", "ppl").Element(Svg + "polyline")!).Select(p => p.Y).ToList();
        var decade = ys[0] - ys[1];
        Assert.True(decade > 50);
        Assert.Equal(decade, ys[1] - ys[2], 0.011); // coordinates are written with two decimals
        Assert.Equal(decade, ys[2] - ys[3], 0.011); // coordinates are written with two decimals
        Assert.Equal(chart.PlotArea.Bottom, ys[0], 0.011); // coordinates are written with two decimals
        Assert.Equal(chart.PlotArea.Top, ys[3], 0.011); // coordinates are written with two decimals
        // Three decades are ticked 1-2-5, and the decade ticks sit at the same heights as the points.
        var ticks = WithClass(root, "text", "y-tick").ToList();
        Assert.Equal(["1", "2", "5", "10", "20", "50", "100", "200", "500", "1,000"], ticks.Select(t => t.Value));
        var decadeTicks = ticks.Where(t => t.Value is "1" or "10" or "100" or "1,000").Select(t => Attr(t, "y") - 4).ToList();
        for (var i = 0; i < 4; i++) Assert.Equal(ys[i], decadeTicks[i], 0.011);
    }

    [Fact]
    public void LogScaleLeavesOutNonPositiveValues()
    {
        var chart = new SvgLineChart { LogY = true }.Add(new LineSeries("s", [(0, 0), (1, 10), (2, 100), (3, -1), (4, 1000)]));
        var root = Parse(chart.Render());
        var lines = Group(root, "series", "s").Elements(Svg + "polyline").ToList();
        Assert.Single(lines);
        Assert.Equal(2, PolylinePoints(lines[0]).Count);
        Assert.Equal(10, chart.YAxis.Min);
    }

    [Fact]
    public void NaNBreaksTheLineIntoSegments()
    {
        var chart = new SvgLineChart().Add(new LineSeries("s", [(0, 1), (1, 2), (2, double.NaN), (3, 3), (4, double.PositiveInfinity), (5, 4)]));
        var group = Group(Parse(chart.Render()), "series", "s");
        Assert.Equal([2], group.Elements(Svg + "polyline").Select(p => PolylinePoints(p).Count));
        // Every plottable point gets a dot (the series is sparse), the isolated last one included.
        Assert.Equal(4, group.Elements(Svg + "circle").Count());
    }

    [Fact]
    public void TextIsEscapedAndSurvivesParsing()
    {
        var chart = new SvgLineChart { Title = Nasty, XTitle = "x " + Nasty, YTitle = "y " + Nasty }
            .Add(new LineSeries(Nasty, [(0, 1), (1, 2)]))
            .AddHorizontalReference("target <loss>", 1.5)
            .AddVerticalMarker("fine-tune & merge", 0.5);
        var svg = chart.Render();
        var root = Parse(svg);
        var texts = Texts(root).Select(t => t.Value).ToList();
        Assert.Contains(Nasty, texts);
        Assert.Contains("x " + Nasty, texts);
        Assert.Contains("y " + Nasty, texts);
        Assert.Contains("target <loss> (1.5)", texts);
        Assert.Contains("fine-tune & merge", texts);
        Assert.Equal(Nasty, root.Element(Svg + "title")!.Value);
        Assert.DoesNotContain("<loss>", svg);
    }

    [Fact]
    public void ReferenceLinesAreDrawnAtTheirValuesAndWidenTheAxes()
    {
        var chart = new SvgLineChart().Add(new LineSeries("s", [(0, 5), (100, 6)]))
            .AddHorizontalReference("target loss", 4.2)
            .AddVerticalMarker("fine-tune", 150);
        Assert.True(chart.YAxis.Min <= 4.2);
        Assert.True(chart.XAxis.Max >= 150);
        var root = Parse(chart.Render());
        var area = chart.PlotArea;
        var target = Group(root, "reference", "target loss").Element(Svg + "line")!;
        Assert.Equal(area.MapY(chart.YAxis, 4.2), Attr(target, "y1"), 0.01);
        Assert.Equal(Attr(target, "y1"), Attr(target, "y2"));
        var marker = Group(root, "marker", "fine-tune").Element(Svg + "line")!;
        Assert.Equal(area.MapX(chart.XAxis, 150), Attr(marker, "x1"), 0.01);
    }

    [Fact]
    public void EmptySeriesDoNotCrashAndSayNoData()
    {
        var chart = new SvgLineChart { Title = "loss" }
            .Add(new LineSeries("empty", []))
            .Add(new LineSeries("all NaN", [(double.NaN, 1), (2, double.NaN)]));
        var root = Parse(chart.Render());
        Assert.Single(WithClass(root, "text", "no-data"));
        Assert.Empty(root.Descendants(Svg + "polyline"));
        var legend = WithClass(root, "text", "legend-label").Select(t => t.Value).ToList();
        Assert.Equal(["empty (no data)", "all NaN (no data)"], legend);

        Parse(new SvgLineChart().Render());
        Parse(new SvgLineChart { LogY = true }.AddHorizontalReference("target", 3).Render());
    }

    [Fact]
    public void AnEmptySeriesBesideRealDataIsOnlyMarkedInTheLegend()
    {
        var chart = new SvgLineChart().Add(new LineSeries("baseline", [(0, 3), (1, 2)])).Add(new LineSeries("DisCo", []));
        var root = Parse(chart.Render());
        Assert.Empty(WithClass(root, "text", "no-data"));
        Assert.Contains("DisCo (no data)", WithClass(root, "text", "legend-label").Select(t => t.Value));
    }

    [Fact]
    public void SeriesGetDistinctPaletteColours()
    {
        var chart = new SvgLineChart();
        for (var i = 0; i < 5; i++) chart.Add(new LineSeries($"s{i}", [(0, i), (1, i + 1)]));
        var root = Parse(chart.Render());
        var strokes = Enumerable.Range(0, 5)
            .Select(i => (string)Group(root, "series", $"s{i}").Element(Svg + "polyline")!.Attribute("stroke")!).ToList();
        Assert.Equal(ChartColours.Categorical.Take(5), strokes);
    }

    [Fact]
    public void AMarkerNearTheRightEdgeLabelsItsLeftSideSoTheLabelStaysOffTheLegend()
    {
        var chart = new SvgLineChart().Add(new LineSeries("a long series name for a wide legend", [(0, 1), (100, 2)]))
            .AddVerticalMarker("merge", 10).AddVerticalMarker("control copied", 100);
        var root = Parse(chart.Render());
        var area = chart.PlotArea;
        var near = Group(root, "marker", "control copied").Element(Svg + "text")!;
        Assert.Equal("end", (string?)near.Attribute("text-anchor"));
        Assert.True(Attr(near, "x") < area.MapX(chart.XAxis, 100));
        var far = Group(root, "marker", "merge").Element(Svg + "text")!;
        Assert.Equal("start", (string?)far.Attribute("text-anchor"));
        Assert.True(Attr(far, "x") + 11 * 0.6 * "merge".Length <= area.Right);
    }

    [Fact]
    public void ASeriesWithItsOwnColourKeepsItsDashAfterThePaletteRepeats()
    {
        var chart = new SvgLineChart();
        for (var i = 0; i < 10; i++) chart.Add(new LineSeries($"s{i}", [(0, i), (1, i + 1)], Colour: i == 9 ? "#123456" : null));
        var root = Parse(chart.Render());
        Assert.Null(Group(root, "series", "s9").Element(Svg + "polyline")!.Attribute("stroke-dasharray"));
        Assert.Equal("#123456", (string?)Group(root, "series", "s9").Element(Svg + "polyline")!.Attribute("stroke"));
        // A palette-coloured series past the palette's end is dashed, to tell it from the first one.
        Assert.NotNull(Group(root, "series", "s8").Element(Svg + "polyline")!.Attribute("stroke-dasharray"));
    }

    [Fact]
    public void MismatchedColumnsAreRejectedWithTheSeriesName()
    {
        var e = Assert.Throws<ArgumentException>(() => LineSeries.FromColumns("loss", [1, 2, 3], [1, 2]));
        Assert.Contains("'loss'", e.Message);
    }
}
