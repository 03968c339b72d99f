using System.Text;

namespace Orleans.MoE.Data.Tests.Tokenization;

/// <summary>Seeded random text mixing scripts, digits, whitespace kinds, punctuation and astral characters.</summary>
internal static class RandomText
{
    private static readonly (int From, int To)[] Ranges =
    [
        (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E), // ASCII, weighted up
        (0x09, 0x0D), // tab, newline, vertical tab, form feed, carriage return
        (0xA0, 0xFF), // Latin-1 (no-break space, letters, symbols)
        (0x0300, 0x036F), // combining marks
        (0x0400, 0x04FF), // Cyrillic
        (0x0660, 0x0669), // Arabic-Indic digits
        (0x2000, 0x200A), // assorted spaces
        (0x2028, 0x2029), // line and paragraph separators
        (0x4E00, 0x4E80), // CJK
        (0x1F600, 0x1F64F), // emoji (astral plane)
        (0x10400, 0x1044F), // Deseret letters (astral plane)
    ];

    private static readonly string[] Fragments = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "  ", "\n\n", " \n ", "123", "!!", "don't"];

    public static string Next(Random random, int length, bool bmpOnly = false)
    {
        var sb = new StringBuilder();
        while (sb.Length < length)
        {
            if (random.Next(8) == 0)
            {
                sb.Append(Fragments[random.Next(Fragments.Length)]);
                continue;
            }
            var (from, to) = Ranges[random.Next(Ranges.Length)];
            var codePoint = random.Next(from, to + 1);
            if (bmpOnly && codePoint > 0xFFFF) continue;
            sb.Append(char.ConvertFromUtf32(codePoint));
        }
        return sb.ToString();
    }
}
