using System.Text;

namespace Orleans.MoE.Data.Corpora;

/// <summary>Cuts the files of the built-in sources into documents at their natural boundaries.</summary>
public static class DocumentSplitters
{
    /// <summary>Fortune files: entries separated by lines holding only '%'. One fortune is one document.</summary>
    public static IEnumerable<string> Fortunes(string text)
    {
        var entry = new StringBuilder();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line == "%")
            {
                if (entry.ToString().Trim().Length > 0) yield return entry.ToString().TrimEnd();
                entry.Clear();
                continue;
            }
            entry.Append(line).Append('\n');
        }
        if (entry.ToString().Trim().Length > 0) yield return entry.ToString().TrimEnd();
    }

    /// <summary>
    /// GNU Info files: nodes separated by the 0x1F character, each starting with a
    /// "File: …, Node: NAME, …" line. One node (a section of the manual) is one document, without
    /// that navigation line; the preamble and the tag table are skipped.
    /// </summary>
    public static IEnumerable<(string Node, string Text)> InfoNodes(string text)
    {
        foreach (var piece in text.Split('\x1f'))
        {
            var body = piece.TrimStart('\n', '\r');
            var firstLineEnd = body.IndexOf('\n');
            if (firstLineEnd < 0) continue;
            var header = body[..firstLineEnd];
            var nodeAt = header.IndexOf("Node: ", StringComparison.Ordinal);
            if (!header.StartsWith("File: ", StringComparison.Ordinal) || nodeAt < 0) continue;
            var nodeEnd = header.IndexOf(',', nodeAt);
            var node = (nodeEnd < 0 ? header[(nodeAt + 6)..] : header[(nodeAt + 6)..nodeEnd]).Trim();
            var content = body[(firstLineEnd + 1)..].Trim();
            if (content.Length > 0) yield return (node, content);
        }
    }

    /// <summary>
    /// The output of the <c>bible</c> program: a heading line per chapter ("Genesis 1") followed by
    /// indented verses. One chapter is one document, heading included.
    /// </summary>
    public static IEnumerable<(string Chapter, string Text)> BibleChapters(string text)
    {
        string? chapter = null;
        var verses = new StringBuilder();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            if (!char.IsWhiteSpace(line[0]))
            {
                if (chapter is not null && verses.Length > 0) yield return (chapter, $"{chapter}\n{verses.ToString().TrimEnd()}");
                chapter = line.Trim();
                verses.Clear();
                continue;
            }
            verses.Append(line.Trim()).Append('\n');
        }
        if (chapter is not null && verses.Length > 0) yield return (chapter, $"{chapter}\n{verses.ToString().TrimEnd()}");
    }
}
