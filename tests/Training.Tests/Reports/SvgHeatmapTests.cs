using Orleans.MoE.Training.Reports;
using static Orleans.MoE.Training.Tests.Reports.SvgAssert;

namespace Orleans.MoE.Training.Tests.Reports;

public class SvgHeatmapTests
{
    private static string[] Labels(string prefix, int n) => Enumerable.Range(0, n).Select(i => $"{prefix} {i}").ToArray();

    private static double[,] Matrix(int rows, int columns, Func<int, int, double> value)
    {
        var m = new double[rows, columns];
        for (var r = 0; r < rows; r++)
        for (var c = 0; c < columns; c++)
            m[r, c] = value(r, c);
        return m;
    }

    private static Dictionary<(int Row, int Column), string> CellFills(System.Xml.Linq.XElement root) =>
        WithClass(root, "rect", "cell").ToDictionary(
            r => ((int)Attr(r, "data-row"), (int)Attr(r, "data-column")),
            r => (string)r.Attribute("fill")!);

    [Fact]
    public void CellColoursGetLighterAsTheValueGrows()
    {
        // Values scattered over the grid, so the colour must follow the value, not the position.
        var ranks = Enumerable.Range(0, 20).ToArray();
        new Random(7).Shuffle(ranks);
        var values = Matrix(4, 5, (r, c) => ranks[r * 5 + c] / 19.0);
        var root = Parse(new SvgHeatmap(values, Labels("cluster", 4), Labels("expert", 5)).Render());
        var fills = CellFills(root);
        Assert.Equal(20, fills.Count);

        var byValue = fills.OrderBy(kv => values[kv.Key.Row, kv.Key.Column]).Select(kv => ChartColours.RelativeLuminance(kv.Value)).ToList();
        for (var i = 1; i < byValue.Count; i++) Assert.True(byValue[i] > byValue[i - 1], $"luminance falls at rank {i}");
        // The ends of the scale are the ends of viridis.
        Assert.Contains("#440154", fills.Values);
        Assert.Contains("#FDE725", fills.Values);
    }

    [Fact]
    public void FixedBoundsClampValuesOutsideThem()
    {
        var map = new SvgHeatmap(new double[,] { { -0.5, 0, 0.5, 1, 1.5 } }, ["r"], Labels("e", 5)) { Min = 0, Max = 1 };
        var fills = CellFills(Parse(map.Render()));
        Assert.Equal(fills[(0, 0)], fills[(0, 1)]);
        Assert.Equal(fills[(0, 3)], fills[(0, 4)]);
        Assert.Equal(ChartColours.Sequential(0.5), fills[(0, 2)]);
    }

    [Fact]
    public void SmallMatricesPrintTheirValuesInReadableColours()
    {
        var map = new SvgHeatmap(new double[,] { { 0.9, 0.1 }, { 0.2, 0.8 } }, ["c0", "c1"], ["e0", "e1"]) { ValueFormat = "0.00" };
        var root = Parse(map.Render());
        var values = WithClass(root, "text", "cell-value").ToList();
        Assert.Equal(["0.90", "0.10", "0.20", "0.80"], values.Select(v => v.Value));
        // Bright yellow cells get black text, dark purple ones white.
        Assert.Equal("#000000", (string)values[0].Attribute("fill")!);
        Assert.Equal("#FFFFFF", (string)values[1].Attribute("fill")!);
    }

    [Fact]
    public void LargeMatricesLeaveTheValuesToTooltips()
    {
        var map = new SvgHeatmap(Matrix(40, 40, (r, c) => r + c), Labels("r", 40), Labels("c", 40));
        var root = Parse(map.Render());
        Assert.Empty(WithClass(root, "text", "cell-value"));
        Assert.Equal(1600, WithClass(root, "rect", "cell").Count());
    }

    [Fact]
    public void LabelsAreEscapedAndMissingValuesAreGrey()
    {
        const string nasty = "cluster <&> \"x\"";
        var map = new SvgHeatmap(new double[,] { { double.NaN, 1 } }, [nasty], ["e0", "e1"]) { Title = nasty, RowTitle = "cluster", ColumnTitle = "expert" };
        var root = Parse(map.Render());
        Assert.Contains(nasty, Texts(root).Select(t => t.Value));
        Assert.Equal("#D9D9D9", CellFills(root)[(0, 0)]);
        Assert.Equal("n/a", WithClass(root, "text", "cell-value").First().Value);
    }

    [Fact]
    public void EmptyOrAllMissingMatricesSayNoData()
    {
        Assert.Single(WithClass(Parse(new SvgHeatmap(new double[0, 0], [], []).Render()), "text", "no-data"));
        var nan = new SvgHeatmap(new double[,] { { double.NaN } }, ["r"], ["c"]);
        Assert.Single(WithClass(Parse(nan.Render()), "text", "no-data"));
    }

    [Fact]
    public void LabelCountsMustMatchTheMatrix()
    {
        var e = Assert.Throws<ArgumentException>(() => new SvgHeatmap(new double[2, 3], ["a", "b"], ["x", "y"]));
        Assert.Contains("3 columns but 2 column labels", e.Message);
    }
}
