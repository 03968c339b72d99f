using System.Text.RegularExpressions;

namespace Orleans.MoE.Training.Reports;

/// <summary>How a table column's cells are aligned; <see cref="Auto"/> right-aligns columns of numbers and left-aligns the rest.</summary>
public enum ColumnAlignment
{
    Auto,
    Left,
    Center,
    Right,
}

/// <summary>
/// A table of text cells with a header row, rendered the same way to HTML (<see cref="HtmlReport"/>)
/// and to Markdown (<see cref="MarkdownTable"/>), so the report and the summary show the same numbers.
/// The caller formats the numbers; the table only aligns them.
/// </summary>
public sealed partial class ReportTable
{
    private readonly List<IReadOnlyList<string>> _rows = [];
    private readonly ColumnAlignment[] _alignments;

    /// <summary>A table whose columns are all <see cref="ColumnAlignment.Auto"/>.</summary>
    public ReportTable(params string[] header) : this(header, null) { }

    public ReportTable(IReadOnlyList<string> header, IReadOnlyList<ColumnAlignment>? alignments)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header.Count == 0) throw new ArgumentException("a table needs at least one column", nameof(header));
        if (alignments is not null && alignments.Count != header.Count)
            throw new ArgumentException($"table has {header.Count} columns but {alignments.Count} alignments; give one per column");
        Header = header.ToList();
        _alignments = alignments?.ToArray() ?? new ColumnAlignment[header.Count];
    }

    public IReadOnlyList<string> Header { get; }

    public IReadOnlyList<IReadOnlyList<string>> Rows => _rows;

    /// <summary>Shown above the table in HTML; in Markdown the caller writes its own heading.</summary>
    public string? Caption { get; set; }

    public ReportTable AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != Header.Count)
            throw new ArgumentException(
                $"table row has {cells.Length} cells but the header has {Header.Count} columns ({string.Join(", ", Header)}); give one cell per column");
        _rows.Add(cells.Select(c => c ?? "").ToList());
        return this;
    }

    /// <summary>The column's alignment, with <see cref="ColumnAlignment.Auto"/> decided from its cells.</summary>
    public ColumnAlignment AlignmentOf(int column)
    {
        var declared = _alignments[column];
        if (declared != ColumnAlignment.Auto) return declared;
        var cells = _rows.Select(r => r[column].Trim()).Where(c => !IsPlaceholder(c)).ToList();
        return cells.Count > 0 && cells.All(LooksNumeric) ? ColumnAlignment.Right : ColumnAlignment.Left;
    }

    /// <summary>
    /// Whether a cell reads as one number, possibly with a sign, a currency symbol, thousands
    /// separators, an exponent and a unit or ratio suffix: "21,150", "-4.954", "$6.87", "69.5%",
    /// "5.16×", "9.87 h", "1.2e+15".
    /// </summary>
    public static bool LooksNumeric(string cell) => NumberPattern().IsMatch(cell.Trim());

    // Blank cells and dashes say "no value"; they should not make a numeric column left-aligned.
    private static bool IsPlaceholder(string cell) => cell is "" or "-" or "—" or "–" or "n/a" or "NaN";

    [GeneratedRegex(@"^[-+−]?[$€£]?\d[\d,]*(\.\d+)?([eE][-+]?\d+)?\s?(%|×|x|h|s|ms|[kMGTB])?$")]
    private static partial Regex NumberPattern();
}
