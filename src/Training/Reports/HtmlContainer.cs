using System.Text;
using System.Xml;
using System.Xml.Linq;
using static Orleans.MoE.Training.Reports.Markup;

namespace Orleans.MoE.Training.Reports;

/// <summary>
/// The content of a report or of one of its sections: paragraphs, tables, figures, preformatted
/// text and nested sections, kept in the order they are added. All text is escaped when added.
/// </summary>
public abstract class HtmlContainer
{
    private readonly List<(Func<string> Render, bool IsSection)> _blocks = [];
    private readonly List<HtmlSection> _sections = [];

    private protected HtmlContainer(string idPrefix, int headingLevel)
    {
        IdPrefix = idPrefix;
        HeadingLevel = headingLevel;
    }

    private protected string IdPrefix { get; }

    private protected int HeadingLevel { get; }

    public IReadOnlyList<HtmlSection> Sections => _sections;

    /// <summary>A paragraph of plain text.</summary>
    public HtmlContainer AddParagraph(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var html = $"<p>{Escape(text)}</p>\n";
        _blocks.Add((() => html, false));
        return this;
    }

    /// <summary>A table; numeric columns are right-aligned (see <see cref="ReportTable.AlignmentOf"/>).</summary>
    public HtmlContainer AddTable(ReportTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        // Rendered when the page is, so rows added after this call still appear.
        _blocks.Add((() => RenderTable(table), false));
        return this;
    }

    /// <summary>
    /// An inline SVG with an optional caption. The SVG must be well-formed XML with an svg root and
    /// must not reference anything outside the page (scripts, external images or links), so the
    /// report stays self-contained.
    /// </summary>
    public HtmlContainer AddFigure(string svg, string? caption = null)
    {
        var inline = CheckedInlineSvg(svg);
        var html = $"<figure>\n{inline}" + (caption is null ? "" : $"<figcaption>{Escape(caption)}</figcaption>\n") + "</figure>\n";
        _blocks.Add((() => html, false));
        return this;
    }

    /// <summary>Monospaced text kept as written, e.g. the resolved experiment config.</summary>
    public HtmlContainer AddPreformatted(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var html = $"<pre>{Escape(text)}</pre>\n";
        _blocks.Add((() => html, false));
        return this;
    }

    /// <summary>A list of term/value pairs, e.g. the settings of a run.</summary>
    public HtmlContainer AddDefinitions(IEnumerable<(string Term, string Value)> items)
    {
        var sb = new StringBuilder("<dl>\n");
        foreach (var (term, value) in items) sb.Append($"<dt>{Escape(term)}</dt><dd>{Escape(value)}</dd>\n");
        var html = sb.Append("</dl>\n").ToString();
        _blocks.Add((() => html, false));
        return this;
    }

    /// <summary>A nested section with its own heading, one level below this container's.</summary>
    public HtmlSection AddSection(string heading)
    {
        var section = new HtmlSection(heading, $"{IdPrefix}-{_sections.Count + 1}", Math.Min(6, HeadingLevel + 1));
        _sections.Add(section);
        _blocks.Add((section.Render, true));
        return section;
    }

    /// <param name="beforeFirstSection">inserted where the first subsection starts (the report's table of contents)</param>
    private protected void RenderContent(StringBuilder sb, string? beforeFirstSection = null)
    {
        foreach (var (render, isSection) in _blocks)
        {
            if (isSection && beforeFirstSection is not null)
            {
                sb.Append(beforeFirstSection);
                beforeFirstSection = null;
            }
            sb.Append(render());
        }
    }

    private static string RenderTable(ReportTable table)
    {
        var classes = Enumerable.Range(0, table.Header.Count).Select(c => table.AlignmentOf(c) switch
        {
            ColumnAlignment.Right => " class=\"num\"",
            ColumnAlignment.Center => " class=\"center\"",
            _ => "",
        }).ToList();
        var sb = new StringBuilder("<div class=\"table-wrap\"><table>\n");
        if (table.Caption is not null) sb.Append($"<caption>{Escape(table.Caption)}</caption>\n");
        sb.Append("<thead><tr>");
        for (var c = 0; c < table.Header.Count; c++) sb.Append($"<th{classes[c]}>{Escape(table.Header[c])}</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            sb.Append("<tr>");
            for (var c = 0; c < row.Count; c++) sb.Append($"<td{classes[c]}>{Escape(row[c])}</td>");
            sb.Append("</tr>\n");
        }
        return sb.Append("</tbody>\n</table></div>\n").ToString();
    }

    private static string CheckedInlineSvg(string svg)
    {
        ArgumentNullException.ThrowIfNull(svg);
        XDocument doc;
        try
        {
            doc = XDocument.Parse(svg);
        }
        catch (XmlException e)
        {
            throw new ArgumentException($"figure SVG is not well-formed XML ({e.Message}); pass the output of a chart's Render()", nameof(svg));
        }
        if (doc.Root!.Name.LocalName != "svg")
            throw new ArgumentException($"figure root element is <{doc.Root.Name.LocalName}>, expected <svg>", nameof(svg));
        foreach (var element in doc.Root.DescendantsAndSelf())
        {
            if (element.Name.LocalName is "script" or "foreignObject")
                throw new ArgumentException($"figure SVG contains <{element.Name.LocalName}>; reports carry pictures only", nameof(svg));
            foreach (var attribute in element.Attributes())
            {
                var isReference = attribute.Name.LocalName is "href" or "src";
                if (isReference && !attribute.Value.StartsWith('#') || attribute.Value.Contains("url(http", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException(
                        $"figure SVG references '{attribute.Value}' outside the page; the report must open without a network", nameof(svg));
            }
        }
        // Our charts start with <svg ...>; anything else (an XML declaration, a doctype) must not land inside the HTML body.
        return svg.TrimStart().StartsWith("<svg", StringComparison.Ordinal)
            ? svg.Trim() + "\n"
            : doc.Root.ToString(SaveOptions.DisableFormatting) + "\n";
    }
}
