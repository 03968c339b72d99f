using Orleans.MoE.Data.Corpora;

namespace Orleans.MoE.Data.Tests.Corpora;

public class DocumentSplitterTests
{
    [Fact]
    public void FortunesAreCutAtPercentLines()
    {
        var text = "First fortune,\n  two lines.\n%\nSecond 100% sure.\n%\r\n%\nThird\r\n";
        Assert.Equal(["First fortune,\n  two lines.", "Second 100% sure.", "Third"], DocumentSplitters.Fortunes(text));
    }

    [Fact]
    public void InfoNodesDropNavigationPreambleAndTagTable()
    {
        var text = "This is standards.info, produced by makeinfo.\n\x1f\nFile: standards.info,  Node: Top,  Next: Preface\n\nGNU Coding Standards\n\n\x1f\n"
                   + "File: standards.info,  Node: Preface,  Prev: Top\n\n1 About\n*******\nText here.\n\x1f\nTag Table:\nNode: Top\x7f123\n\x1f\nEnd Tag Table\n";
        Assert.Equal([("Top", "GNU Coding Standards"), ("Preface", "1 About\n*******\nText here.")], DocumentSplitters.InfoNodes(text));
    }

    [Fact]
    public void BibleChaptersKeepTheirHeading()
    {
        var text = "\nGenesis 1\n\n  1 In the beginning.\n  2 And the earth.\n\nSong of Solomon 2\n\n  1 I am the rose.\n";
        Assert.Equal(
            [("Genesis 1", "Genesis 1\n1 In the beginning.\n2 And the earth."), ("Song of Solomon 2", "Song of Solomon 2\n1 I am the rose.")],
            DocumentSplitters.BibleChapters(text));
    }
}
