using System.Globalization;

namespace Orleans.MoE.Training.Reports;

/// <summary>Colours for charts: a categorical palette for series and a sequential scale for heatmaps.</summary>
public static class ChartColours
{
    /// <summary>
    /// The Okabe-Ito palette, distinguishable under the common colour-vision deficiencies; its yellow
    /// comes last because it is faint on white.
    /// </summary>
    public static IReadOnlyList<string> Categorical { get; } =
        ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

    // Viridis sampled at 0, 0.1, ..., 1: perceptually uniform, lightness rising monotonically, readable in grey.
    private static readonly (byte R, byte G, byte B)[] Viridis =
    [
        (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5f, 0x8d), (0x2a, 0x78, 0x8e), (0x21, 0x91, 0x8c),
        (0x22, 0xa8, 0x84), (0x44, 0xbf, 0x70), (0x7a, 0xd1, 0x51), (0xbd, 0xdf, 0x26), (0xfd, 0xe7, 0x25),
    ];

    /// <summary>The series colour for index <paramref name="index"/>; after the palette runs out the colours repeat.</summary>
    public static string Series(int index) => Categorical[index % Categorical.Count];

    /// <summary>
    /// The sequential colour for <paramref name="t"/> in [0, 1] (clamped): dark purple at 0, yellow at 1,
    /// linearly interpolated between viridis samples.
    /// </summary>
    public static string Sequential(double t)
    {
        if (double.IsNaN(t)) throw new ArgumentException("colour scale position is NaN", nameof(t));
        var x = Math.Clamp(t, 0, 1) * (Viridis.Length - 1);
        var i = Math.Min((int)Math.Floor(x), Viridis.Length - 2);
        var f = x - i;
        var (a, b) = (Viridis[i], Viridis[i + 1]);
        return Hex(Lerp(a.R, b.R, f), Lerp(a.G, b.G, f), Lerp(a.B, b.B, f));
    }

    /// <summary>WCAG relative luminance of a "#RRGGBB" colour, 0 (black) to 1 (white).</summary>
    public static double RelativeLuminance(string hex)
    {
        if (hex.Length != 7 || hex[0] != '#') throw new FormatException($"expected a colour like #1A2B3C, got '{hex}'");
        double Channel(int offset)
        {
            var c = int.Parse(hex.AsSpan(offset, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        return 0.2126 * Channel(1) + 0.7152 * Channel(3) + 0.0722 * Channel(5);
    }

    /// <summary>Black or white, whichever reads better on <paramref name="background"/>.</summary>
    public static string TextOn(string background) => RelativeLuminance(background) > 0.179 ? "#000000" : "#FFFFFF";

    private static byte Lerp(byte a, byte b, double f) => (byte)Math.Round(a + (b - a) * f);

    private static string Hex(byte r, byte g, byte b) => $"#{r:X2}{g:X2}{b:X2}";
}
