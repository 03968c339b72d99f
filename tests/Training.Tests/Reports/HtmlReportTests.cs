using System.Xml.Linq;
using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.Tests.Reports;

public sealed class HtmlReportTests : IDisposable
{
    private const string SvgNamespaceDeclaration = "xmlns=\"http://www.w3.org/2000/svg\"";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "moe-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static XElement ParsePage(string html) => XDocument.Parse(html).Root!;

    [Fact]
    public void TextIsEscapedEverywhere()
    {
        const string nasty = "<script>alert(\"x\")</script> & 'q'";
        var report = new HtmlReport("title " + nasty);
        report.AddParagraph(nasty);
        report.AddSection("section " + nasty).AddTable(new ReportTable("h " + nasty, "n").AddRow(nasty, "1"));
        report.AddPreformatted(nasty);
        report.AddDefinitions([(nasty, nasty)]);

        var html = report.Render();
        var root = ParsePage(html);
        Assert.Empty(root.Descendants("script"));
        Assert.Equal("title " + nasty, root.Descendants("title").Single().Value);
        Assert.Equal("title " + nasty, root.Descendants("h1").Single().Value);
        Assert.Equal(nasty, root.Descendants("p").Single().Value);
        Assert.Equal("section " + nasty, root.Descendants("h2").Single().Value);
        Assert.Equal("h " + nasty, root.Descendants("th").First().Value);
        Assert.Equal(nasty, root.Descendants("td").First().Value);
        Assert.Equal(nasty, root.Descendants("pre").Single().Value);
        Assert.Equal(nasty, root.Descendants("dt").Single().Value);
    }

    [Fact]
    public void NumericColumnsAreRightAligned()
    {
        var report = new HtmlReport("t");
        report.AddTable(new ReportTable("Model", "Steps", "Cost ($)").AddRow("Qwen", "21,150", "22.5036").AddRow("Llama", "—", "6.74"));
        var root = ParsePage(report.Render());
        var classes = root.Descendants("tr").Select(tr => tr.Elements().Select(c => (string?)c.Attribute("class")).ToList()).ToList();
        Assert.All(classes, row => Assert.Equal([null, "num", "num"], row));
        Assert.Contains(".num { text-align: right;", report.Render());
    }

    [Fact]
    public void SectionsNestWithHeadingLevelsAndAnchors()
    {
        var report = new HtmlReport("t");
        var first = report.AddSection("one");
        first.AddSection("one.one").AddParagraph("deep");
        report.AddSection("two");
        var root = ParsePage(report.Render());
        Assert.Equal(["one", "two"], root.Descendants("h2").Select(h => h.Value));
        Assert.Equal("one.one", root.Descendants("h3").Single().Value);
        Assert.Equal(["section-1", "section-1-1", "section-2"], root.Descendants("section").Select(s => (string)s.Attribute("id")!));
        Assert.Equal(["#section-1", "#section-2"], root.Descendants("nav").Descendants("a").Select(a => (string)a.Attribute("href")!));
    }

    [Fact]
    public void ContentAddedToASectionLaterStillAppearsInOrder()
    {
        var report = new HtmlReport("t");
        var section = report.AddSection("s");
        var table = new ReportTable("a");
        section.AddTable(table);
        report.AddParagraph("after");
        section.AddParagraph("late");
        table.AddRow("1");
        var root = ParsePage(report.Render());
        Assert.Equal("1", root.Descendants("td").Single().Value);
        Assert.Equal(["late", "after"], root.Descendants("p").Select(p => p.Value));
    }

    [Theory]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"http://example.com/a.png\"/></svg>", "outside the page")]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>1</script></svg>", "<script>")]
    [InlineData("<svg><rect></svg>", "not well-formed")]
    [InlineData("<div/>", "expected <svg>")]
    public void FiguresThatAreNotSelfContainedSvgAreRejected(string svg, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new HtmlReport("t").AddFigure(svg));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AnXmlDeclarationDoesNotEndUpInsideThePage()
    {
        var report = new HtmlReport("t");
        report.AddFigure("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"1\" height=\"1\"/></svg>");
        var html = report.Render();
        Assert.DoesNotContain("<?xml", html);
        Assert.Single(ParsePage(html).Descendants(SvgAssert.Svg + "rect"));
    }

    [Fact]
    public void SaveWritesTheRenderedPageAtomically()
    {
        var report = new HtmlReport("t");
        report.AddParagraph("é ∞ 你好");
        var path = report.Save(Path.Combine(_dir, "nested", "report.html"));
        Assert.Equal(report.Render(), File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
        Assert.NotEqual(0xEF, File.ReadAllBytes(path)[0]); // no byte-order mark
    }

    [Fact]
    public void SampleReportIsSelfContainedWellFormedAndComplete()
    {
        // Kept in the temp directory (overwritten each run) so it can be opened in a browser.
        var dir = Path.Combine(Path.GetTempPath(), "orleans-moe-report-sample");
        var path = SampleReport.Build().Save(Path.Combine(dir, "report.html"));
        var summary = Path.Combine(dir, "summary.md");
        File.WriteAllText(summary, "## Table 1\n\n" + MarkdownTable.Render(SampleReport.Table1()) + "\n## Table 3\n\n" +
            MarkdownTable.Render(SampleReport.Table3()));

        var html = File.ReadAllText(path);
        var root = ParsePage(html);
        // The SVG namespace name is an identifier, never fetched; nothing else may point outside the file.
        var withoutNamespace = html.Replace(SvgNamespaceDeclaration, "");
        foreach (var external in new[] { "http", "src=", "<link", "url(", "@import", "<script" })
            Assert.DoesNotContain(external, withoutNamespace, StringComparison.OrdinalIgnoreCase);
        Assert.All(root.Descendants().Attributes("href"), a => Assert.StartsWith("#", a.Value));

        Assert.Equal(6, root.Descendants(SvgAssert.Svg + "svg").Count());
        Assert.Equal(2, root.Descendants("table").Count());
        Assert.Contains("21,150", root.Descendants("td").Select(td => td.Value));
        Assert.Contains("MoE-DisCo experiment <demo> & baseline", root.Descendants("h1").Single().Value);
        Assert.Contains("| Qwen  | C4          |          21,150 |", File.ReadAllText(summary));
    }
}
