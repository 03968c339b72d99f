using System.Text.RegularExpressions;
using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.Tests.Reports;

public class MarkdownTableTests
{
    /// <summary>Splits a Markdown table row at the pipes that are not backslash-escaped, as GitHub does.</summary>
    private static List<string> Cells(string line) =>
        Regex.Split(line.Trim().Trim('|'), @"(?<!\\)\|").Select(c => c.Trim()).ToList();

    [Fact]
    public void PipesAreEscapedSoEveryRowKeepsItsColumns()
    {
        var table = new ReportTable("Name", "Value").AddRow("a|b", "1").AddRow("back\\slash | and\nnewline", "2");
        var lines = MarkdownTable.Render(table).TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.Equal(2, Cells(l).Count));
        Assert.Equal("a\\|b", Cells(lines[2])[0]);
        Assert.Equal("back\\\\slash \\| and newline", Cells(lines[3])[0]);
    }

    [Fact]
    public void NumericColumnsAreRightAlignedAndTextColumnsLeft()
    {
        var table = new ReportTable("Model", "Data", "Full-Param Step", "Full Loss", "Full Platform", "Reduction")
            .AddRow("Qwen", "C4", "21,150", "4.954", "A100×1", "69.5%")
            .AddRow("Llama", "WikiText-2", "15,000", "—", "A100×1", "52.1%");
        var lines = MarkdownTable.Render(table).Split('\n');
        var separators = Cells(lines[1]);
        Assert.Equal([false, false, true, true, false, true], separators.Select(s => s.EndsWith(':') && !s.StartsWith(':')));
        Assert.Equal([true, true, false, false, true, false], separators.Select(s => s.StartsWith(':') && !s.EndsWith(':')));
        Assert.All(separators, s => Assert.Matches("^:?-{3,}:?$", s));

        // Padded to one width per column: every line has its pipes in the same places.
        var pipePositions = lines.Where(l => l.Length > 0).Select(l => string.Join(",", l.Select((ch, i) => ch == '|' ? i : -1).Where(i => i >= 0))).Distinct();
        Assert.Single(pipePositions);
        // Right-aligned cells are padded on the left, left-aligned ones on the right.
        var raw = lines[2].Split('|');
        Assert.Equal(" " + "21,150".PadLeft("Full-Param Step".Length) + " ", raw[3]);
        Assert.Equal(" " + "Qwen".PadRight("Model".Length) + " ", raw[1]);
    }

    [Fact]
    public void ExplicitAlignmentsWin()
    {
        var table = new ReportTable(["a", "b", "c"], [ColumnAlignment.Center, ColumnAlignment.Left, ColumnAlignment.Right]).AddRow("1", "2", "x");
        Assert.Equal(":---:", Cells(MarkdownTable.Render(table).Split('\n')[1])[0]);
        Assert.Equal(":---", Cells(MarkdownTable.Render(table).Split('\n')[1])[1]);
        Assert.Equal("---:", Cells(MarkdownTable.Render(table).Split('\n')[1])[2]);
    }

    [Theory]
    [InlineData("21,150", true)]
    [InlineData("-4.954", true)]
    [InlineData("$6.87", true)]
    [InlineData("69.5%", true)]
    [InlineData("5.16×", true)]
    [InlineData("9.87 h", true)]
    [InlineData("1.2e+15", true)]
    [InlineData("A100×1", false)]
    [InlineData("RTX4090×4", false)]
    [InlineData("C4", false)]
    [InlineData("1.2.3", false)]
    public void RecognisesNumbers(string cell, bool numeric) => Assert.Equal(numeric, ReportTable.LooksNumeric(cell));

    [Fact]
    public void RowsOfTheWrongWidthAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new ReportTable("a", "b").AddRow("1"));
        Assert.Contains("1 cells but the header has 2 columns", e.Message);
    }
}
