namespace Orleans.MoE.Config;

/// <summary>
/// The allowed name a misspelt one was probably meant to be: the closest by edit distance (with
/// transpositions), compared case-insensitively and after snake_casing (<c>topK</c> is <c>top_k</c>).
/// Each allowed name may have aliases, such as its C# property's snake_case form: <c>lerning_rate</c>
/// is close to <c>learning_rate</c>, whose field is spelt <c>lr</c>.
/// </summary>
internal static class NearMiss
{
    /// <summary>The suggested name, or null when nothing is close enough to be a plausible typo.</summary>
    public static string? Suggest(string given, IEnumerable<(string Name, string Alias)> allowed)
    {
        var normalised = ConfigNames.Policy.ConvertName(given).ToLowerInvariant();
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var (name, alias) in allowed)
        {
            foreach (var candidate in new[] { name, alias })
            {
                var distance = Math.Min(Distance(given.ToLowerInvariant(), candidate), Distance(normalised, candidate));
                if (distance < bestDistance)
                {
                    (best, bestDistance) = (name, distance);
                }
            }
        }
        return bestDistance <= Tolerance(given) ? best : null;
    }

    /// <summary>One edit for short names, growing to three for long ones.</summary>
    private static int Tolerance(string given) => Math.Clamp(given.Length / 4, 1, 3);

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
