using System.Text.Json.Nodes;

namespace Orleans.MoE.Training.Runs;

/// <summary>The leaf fields where two JSON configurations differ, as "path: a vs b" lines.</summary>
internal static class ConfigDifferences
{
    public static IReadOnlyList<string> Between(JsonNode? saved, JsonNode? given, ISet<string> ignored, string path = "")
    {
        var result = new List<string>();
        Walk(saved, given, path, ignored, result);
        return result;
    }

    private static void Walk(JsonNode? a, JsonNode? b, string path, ISet<string> ignored, List<string> result)
    {
        if (ignored.Contains(path)) return;
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var name in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                Walk(oa[name], ob[name], path.Length == 0 ? name : $"{path}.{name}", ignored, result);
            return;
        }
        var (ta, tb) = (a?.ToJsonString() ?? "(absent)", b?.ToJsonString() ?? "(absent)");
        if (ta != tb) result.Add($"{path}: {ta} in the checkpoint, {tb} now");
    }
}
