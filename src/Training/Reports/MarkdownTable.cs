using System.Text;

namespace Orleans.MoE.Training.Reports;

/// <summary>
/// GitHub-flavoured Markdown tables. Columns are padded to a common width so the table also reads
/// in a terminal; "|" and "\" in cells are backslash-escaped and line breaks become spaces, so a
/// cell can never split the row.
/// </summary>
public static class MarkdownTable
{
    public static string Render(ReportTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var columns = table.Header.Count;
        var header = table.Header.Select(Escape).ToList();
        var rows = table.Rows.Select(r => r.Select(Escape).ToList()).ToList();
        var alignments = Enumerable.Range(0, columns).Select(table.AlignmentOf).ToList();
        var widths = Enumerable.Range(0, columns)
            // Room for at least three dashes beside the alignment colons.
            .Select(c => rows.Select(r => r[c].Length).Append(header[c].Length).Append(alignments[c] == ColumnAlignment.Center ? 5 : 4).Max())
            .ToList();

        var sb = new StringBuilder();
        AppendRow(sb, header, widths, alignments);
        sb.Append('|');
        for (var c = 0; c < columns; c++)
        {
            var w = widths[c];
            sb.Append(' ').Append(alignments[c] switch
            {
                ColumnAlignment.Right => new string('-', w - 1) + ":",
                ColumnAlignment.Center => ":" + new string('-', w - 2) + ":",
                _ => ":" + new string('-', w - 1),
            }).Append(" |");
        }
        sb.Append('\n');
        foreach (var row in rows) AppendRow(sb, row, widths, alignments);
        return sb.ToString();
    }

    /// <summary>Makes <paramref name="cell"/> safe inside a table cell.</summary>
    public static string Escape(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return cell.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');
    }

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string> cells, IReadOnlyList<int> widths,
        IReadOnlyList<ColumnAlignment> alignments)
    {
        sb.Append('|');
        for (var c = 0; c < cells.Count; c++)
        {
            var text = cells[c];
            var pad = widths[c] - text.Length;
            var padded = alignments[c] switch
            {
                ColumnAlignment.Right => new string(' ', pad) + text,
                ColumnAlignment.Center => new string(' ', pad / 2) + text + new string(' ', pad - pad / 2),
                _ => text + new string(' ', pad),
            };
            sb.Append(' ').Append(padded).Append(" |");
        }
        sb.Append('\n');
    }
}
