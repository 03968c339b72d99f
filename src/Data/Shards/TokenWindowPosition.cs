using System.Globalization;

namespace Orleans.MoE.Data.Shards;

/// <summary>
/// Where a <see cref="ITokenWindowSource"/> stands: the epoch, the number of windows already read
/// in it, and a fingerprint of the data and settings it refers to (so that a checkpoint cannot be
/// resumed against other shards, another context length or another seed by mistake). Serialisable
/// with System.Text.Json as is, or as the text "epoch:index:fingerprint".
/// </summary>
public readonly record struct TokenWindowPosition(long Epoch, long Index, ulong Fingerprint)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Epoch}:{Index}:{Fingerprint:x16}");

    public static TokenWindowPosition Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 3
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && ulong.TryParse(parts[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var fingerprint))
            return new TokenWindowPosition(epoch, index, fingerprint);
        throw new FormatException($"'{text}' is not a data position; expected 'epoch:index:fingerprint' such as '0:128:0123456789abcdef'");
    }
}
