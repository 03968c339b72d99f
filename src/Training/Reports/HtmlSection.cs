using System.Text;
using static Orleans.MoE.Training.Reports.Markup;

namespace Orleans.MoE.Training.Reports;

/// <summary>A headed section of an <see cref="HtmlReport"/>; it can hold the same content as the report, nested sections included.</summary>
public sealed class HtmlSection : HtmlContainer
{
    internal HtmlSection(string heading, string id, int level) : base(id, level)
    {
        ArgumentNullException.ThrowIfNull(heading);
        Heading = heading;
    }

    public string Heading { get; }

    /// <summary>The section's anchor in the page ("section-2-1" is the first subsection of the second section).</summary>
    public string Id => IdPrefix;

    internal string Render()
    {
        var sb = new StringBuilder();
        sb.Append($"<section id=\"{Id}\">\n<h{HeadingLevel}>{Escape(Heading)}</h{HeadingLevel}>\n");
        RenderContent(sb);
        return sb.Append("</section>\n").ToString();
    }
}
