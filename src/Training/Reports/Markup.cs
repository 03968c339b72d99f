using System.Globalization;

namespace Orleans.MoE.Training.Reports;

/// <summary>Escaping and number formatting shared by the SVG and HTML writers (culture-invariant, so files do not depend on the locale).</summary>
public static class Markup
{
    /// <summary>Escapes text for XML/HTML element content and double- or single-quoted attribute values.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0 && !HasControlCharacters(text)) return text;
        var sb = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                // Control characters other than tab/newline are not allowed in XML 1.0 at all.
                case < ' ' and not ('\t' or '\n' or '\r'): sb.Append('\uFFFD'); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    private static bool HasControlCharacters(string text)
    {
        foreach (var c in text)
            if (c < ' ' && c is not ('\t' or '\n' or '\r')) return true;
        return false;
    }

    /// <summary>A coordinate with at most two decimals: enough for screen pixels, short in the file.</summary>
    public static string Coordinate(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>
    /// A value with about four significant digits and thousands separators for large numbers
    /// (21,150; 230.3; 4.954; 0.0123). NaN and infinities are written as "n/a", "∞", "-∞".
    /// </summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value)) return "n/a";
        if (double.IsPositiveInfinity(value)) return "∞";
        if (double.IsNegativeInfinity(value)) return "-∞";
        var magnitude = Math.Abs(value);
        var format = magnitude switch
        {
            0 => "0",
            >= 1e15 or < 1e-4 => "0.###e+0",
            >= 1000 => "#,0",
            >= 100 => "0.#",
            >= 10 => "0.##",
            >= 1 => "0.###",
            _ => "0.####",
        };
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>Formats with a .NET format string in the invariant culture, or with <see cref="Number(double)"/> when it is null.</summary>
    public static string Number(double value, string? format) =>
        format is null || !double.IsFinite(value) ? Number(value) : value.ToString(format, CultureInfo.InvariantCulture);
}
