using System.Globalization;
using System.Text;

namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// Splits bytes into pre-tokens exactly as GPT-2's pattern
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c> splits text,
/// written as a hand-made scanner over UTF-8 so that it is fast and so that any byte sequence,
/// invalid UTF-8 included, is covered: a byte that is not part of a valid UTF-8 sequence counts as
/// a "neither letter, number nor space" character. The pre-tokens tile the input with no gaps,
/// which is what makes every byte sequence round-trip.
/// </summary>
public static class Gpt2PreTokenizer
{
    private enum CharClass : byte { Letter, Number, Space, Other }

    private static readonly CharClass[] AsciiClass = BuildAsciiClass();

    private static CharClass[] BuildAsciiClass()
    {
        var table = new CharClass[128];
        for (var c = 0; c < 128; c++)
        {
            table[c] = char.IsLetter((char)c) ? CharClass.Letter
                : char.IsDigit((char)c) ? CharClass.Number
                : char.IsWhiteSpace((char)c) ? CharClass.Space
                : CharClass.Other;
        }
        return table;
    }

    /// <summary>The byte length of the pre-token that starts at <paramref name="start"/> (at least 1).</summary>
    public static int NextLength(ReadOnlySpan<byte> text, int start)
    {
        var first = text[start];
        if (first == (byte)'\'')
        {
            var contraction = ContractionLength(text, start);
            if (contraction > 0) return contraction;
        }

        var cls = ClassAt(text, start, out var firstLength);
        if (first == (byte)' ' && start + 1 < text.Length)
        {
            // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': a single leading space joins the run after it.
            var nextClass = ClassAt(text, start + 1, out _);
            if (nextClass != CharClass.Space) return 1 + RunLength(text, start + 1, nextClass);
        }
        if (cls != CharClass.Space) return firstLength + RunLength(text, start + firstLength, cls);
        return WhitespaceLength(text, start);
    }

    /// <summary>Every pre-token of the input, as byte ranges in order.</summary>
    public static List<Range> Split(ReadOnlySpan<byte> text)
    {
        var result = new List<Range>();
        for (var at = 0; at < text.Length;)
        {
            var length = NextLength(text, at);
            result.Add(new Range(at, at + length));
            at += length;
        }
        return result;
    }

    private static int ContractionLength(ReadOnlySpan<byte> text, int start)
    {
        if (start + 1 >= text.Length) return 0;
        var a = text[start + 1];
        if (a is (byte)'s' or (byte)'t' or (byte)'m' or (byte)'d') return 2;
        if (start + 2 >= text.Length) return 0;
        var b = text[start + 2];
        return (a, b) is ((byte)'r', (byte)'e') or ((byte)'v', (byte)'e') or ((byte)'l', (byte)'l') ? 3 : 0;
    }

    /// <summary>Bytes from <paramref name="at"/> while the characters are of class <paramref name="cls"/>.</summary>
    private static int RunLength(ReadOnlySpan<byte> text, int at, CharClass cls)
    {
        var end = at;
        while (end < text.Length)
        {
            var b = text[end];
            if (b < 0x80)
            {
                if (AsciiClass[b] != cls) break;
                end++;
                continue;
            }
            if (ClassAt(text, end, out var length) != cls) break;
            end += length;
        }
        return end - at;
    }

    /// <summary>
    /// '\s+(?!\S)|\s+': a whitespace run that reaches the end is taken whole; one followed by
    /// another character leaves its last whitespace character for the next pre-token (so " word"
    /// keeps its space), unless the run is that single character.
    /// </summary>
    private static int WhitespaceLength(ReadOnlySpan<byte> text, int start)
    {
        var end = start;
        var lastStart = start;
        var count = 0;
        while (end < text.Length && ClassAt(text, end, out var length) == CharClass.Space)
        {
            lastStart = end;
            end += length;
            count++;
        }
        if (end == text.Length || count == 1) return end - start;
        return lastStart - start;
    }

    private static CharClass ClassAt(ReadOnlySpan<byte> text, int at, out int length)
    {
        var b = text[at];
        if (b < 0x80)
        {
            length = 1;
            return AsciiClass[b];
        }
        if (Rune.DecodeFromUtf8(text[at..], out var rune, out length) != System.Buffers.OperationStatus.Done)
        {
            length = Math.Max(length, 1);
            return CharClass.Other;
        }
        if (Rune.IsWhiteSpace(rune)) return CharClass.Space;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            _ => CharClass.Other,
        };
    }
}
