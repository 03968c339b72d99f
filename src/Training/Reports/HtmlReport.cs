using System.Text;
using Orleans.MoE.Torch.Serialization;
using static Orleans.MoE.Training.Reports.Markup;

namespace Orleans.MoE.Training.Reports;

/// <summary>
/// A single self-contained HTML page: a title, a table of contents, and headed sections of
/// paragraphs, tables and inline SVG figures, styled by a small embedded stylesheet. It references
/// nothing outside itself, so it opens offline, and it is well-formed XML as well as HTML.
/// </summary>
/// <example>
/// <code>
/// var report = new HtmlReport("MoE-DisCo: demo");
/// report.AddParagraph("Two experts, 200 steps per phase.");
/// var loss = report.AddSection("Training loss");
/// loss.AddFigure(lossChart.Render(), "Loss vs step");
/// report.AddSection("Cost").AddTable(costTable);
/// report.Save(Path.Combine(experimentDir, "report.html"));
/// </code>
/// </example>
public sealed class HtmlReport : HtmlContainer
{
    // No '<', '>' or '&' here, so the page stays well-formed XML.
    private const string Stylesheet = """
        :root { color-scheme: light; }
        body { margin: 0; background: #FAFAFA; color: #1E1E1E; line-height: 1.45;
               font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
        main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 64px; background: #FFFFFF; }
        h1 { font-size: 1.7em; margin: 0.2em 0 0.6em; }
        h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #DDDDDD; padding-bottom: 0.2em; }
        h3 { font-size: 1.1em; margin-top: 1.4em; }
        nav.toc { font-size: 0.95em; background: #F3F5F8; padding: 8px 16px; border-radius: 6px; }
        nav.toc ul { margin: 0.3em 0; padding-left: 1.2em; }
        .table-wrap { overflow-x: auto; margin: 1em 0; }
        table { border-collapse: collapse; font-size: 0.92em; }
        caption { text-align: left; font-weight: 600; padding-bottom: 0.4em; }
        th, td { border: 1px solid #D0D0D0; padding: 4px 10px; text-align: left; vertical-align: top; }
        th { background: #F0F2F5; }
        tbody tr:nth-child(even) { background: #FAFBFC; }
        .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .center { text-align: center; }
        figure { margin: 1.2em 0; }
        figure svg { max-width: 100%; height: auto; display: block; }
        figcaption { font-size: 0.9em; color: #555555; margin-top: 0.3em; }
        pre { background: #F6F8FA; padding: 10px 14px; overflow-x: auto; font-size: 0.85em; border-radius: 6px; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
        dt { font-weight: 600; }
        dd { margin: 0; }
        """;

    public HtmlReport(string title) : base("section", 1)
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
    }

    public string Title { get; }

    /// <summary>The complete page.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n")
            .Append($"<title>{Escape(Title)}</title>\n<style>\n{Stylesheet}</style>\n</head>\n<body>\n<main>\n")
            .Append($"<h1>{Escape(Title)}</h1>\n");
        RenderContent(sb, TableOfContents());
        return sb.Append("</main>\n</body>\n</html>\n").ToString();
    }

    /// <summary>Links to the top-level sections, placed after the introduction; none for a page with fewer than two sections.</summary>
    private string? TableOfContents()
    {
        if (Sections.Count < 2) return null;
        var sb = new StringBuilder("<nav class=\"toc\"><ul>\n");
        foreach (var s in Sections) sb.Append($"<li><a href=\"#{s.Id}\">{Escape(s.Heading)}</a></li>\n");
        return sb.Append("</ul></nav>\n").ToString();
    }

    /// <summary>Writes the page as UTF-8 atomically: a reader sees the old file or the whole new one. Returns the full path.</summary>
    public string Save(string path)
    {
        var html = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Render());
        AtomicFile.Write(path, stream => stream.Write(html));
        return Path.GetFullPath(path);
    }
}
