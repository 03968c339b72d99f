using System.Text.Json.Nodes;

namespace Orleans.MoE.Config;

/// <summary>Tells which kind of configuration a document is from its top-level fields.</summary>
public static class ConfigKinds
{
    /// <summary>
    /// The kind whose top-level fields the document uses most, or null when none or several tie
    /// (the document is then something else, or too sparse to tell).
    /// </summary>
    public static TKey? Detect<TKey>(JsonNode? document, IReadOnlyDictionary<TKey, IConfigSchema> kinds) where TKey : class
    {
        if (document is not JsonObject root) return null;
        var scores = kinds.Select(k => (k.Key, Score: root.Count(p => k.Value.FieldNames.Contains(p.Key)))).OrderByDescending(s => s.Score).ToList();
        if (scores.Count == 0 || scores[0].Score == 0) return null;
        return scores.Count > 1 && scores[1].Score == scores[0].Score ? null : scores[0].Key;
    }
}
