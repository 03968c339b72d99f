using System.Text;

namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode characters, used to
/// store byte-level tokens as strings in <c>vocab.json</c>, <c>merges.txt</c> and <c>tokenizer.json</c>.
/// Printable Latin-1 bytes map to themselves; the others (controls, space, 0x7F-0xA0, 0xAD) map to
/// U+0100 onwards in byte order, so a space is stored as 'Ġ' (U+0120) and a newline as 'Ċ' (U+010A).
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++) map[ByteToChar[b]] = (byte)b;
        return map;
    }

    public static char CharOf(byte value) => ByteToChar[value];

    /// <summary>The byte-level string of a token's bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }

    /// <summary>The bytes of a byte-level string; false when a character is outside the alphabet.</summary>
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (!CharToByte.TryGetValue(text[i], out bytes[i]))
            {
                bytes = [];
                return false;
            }
        }
        return true;
    }
}
