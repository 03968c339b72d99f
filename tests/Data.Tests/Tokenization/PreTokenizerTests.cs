using System.Text;
using System.Text.RegularExpressions;
using Orleans.MoE.Data.Tokenization;

namespace Orleans.MoE.Data.Tests.Tokenization;

public class PreTokenizerTests
{
    // GPT-2's pattern. .NET's \s, \p{L} and \p{N} agree with the scanner on the Basic Multilingual
    // Plane; on astral characters .NET sees surrogates, so the comparison stays in the BMP.
    private static readonly Regex Gpt2Pattern =
        new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);

    private static string[] Scan(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Gpt2PreTokenizer.Split(bytes).Select(r => Encoding.UTF8.GetString(bytes[r])).ToArray();
    }

    [Fact]
    public void SplitsAKnownSentenceAsGpt2Does()
    {
        Assert.Equal(
            ["Hello", ",", " world", "'s", " 123", "  ", " best", "!!", "\n", "\n", "I", "'ll", " go", " \t", "\n", "x", "  "],
            Scan("Hello, world's 123   best!!\n\nI'll go \t\nx  "));
    }

    [Fact]
    public void MatchesTheRegexOnRandomText()
    {
        var random = new Random(1234);
        for (var i = 0; i < 400; i++)
        {
            var text = RandomText.Next(random, random.Next(1, 80), bmpOnly: true);
            var expected = Gpt2Pattern.Matches(text).Select(m => m.Value).ToArray();
            Assert.Equal(string.Concat(expected), text);
            Assert.Equal(expected, Scan(text));
        }
    }

    [Fact]
    public void TilesInvalidUtf8WithoutGaps()
    {
        byte[] bytes = [0xFF, (byte)'a', 0xC3, (byte)' ', 0xE2, 0x82, (byte)'b', 0x80, 0x80, (byte)' ', 0xF0, 0x9F];
        var ranges = Gpt2PreTokenizer.Split(bytes);
        var at = 0;
        foreach (var r in ranges)
        {
            Assert.Equal(at, r.Start.Value);
            Assert.True(r.End.Value > at);
            at = r.End.Value;
        }
        Assert.Equal(bytes.Length, at);
        // Invalid bytes count as "other" characters: 0xFF is its own run, ' ' + 0xE2 0x82 joins as ' ?[^\s\p{L}\p{N}]+'.
        Assert.Equal(new Range(0, 1), ranges[0]);
        Assert.Equal(new Range(1, 2), ranges[1]);
    }
}
