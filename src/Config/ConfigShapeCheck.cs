using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Orleans.MoE.Config;

/// <summary>
/// Walks a parsed document against the contract System.Text.Json deserializes the record type with
/// (its field names, types and required fields, from <see cref="ConfigJson.Options"/>) and lists every
/// problem at once, where System.Text.Json would stop at the first: unknown fields (with a near-miss
/// suggestion), values of the wrong type or out of range, missing required fields. Nothing here knows
/// any particular record: adding a property to a record adds a field to its files.
/// <para>
/// The walk also repairs the tree so that it deserializes: a null counts as an absent field, an
/// unknown or unusable field is dropped, and a missing or unusable required one gets a placeholder.
/// The validators then check the rest, skipping every rule that depends on a field already reported.
/// </para>
/// </summary>
internal static class ConfigShapeCheck
{
    /// <summary>The document as a <paramref name="type"/>, or null when it is not an object at all; problems go to <paramref name="problems"/>.</summary>
    public static object? Read(JsonNode? document, Type type, ConfigProblems problems)
    {
        if (document is not JsonObject root)
        {
            problems.Add("$", $"expected {ConfigValues.Expected(type)} at the top level, got {ConfigValues.Describe(document)}");
            return null;
        }
        CheckObject(root, type, "", problems);
        try
        {
            return root.Deserialize(type, ConfigJson.Options);
        }
        catch (JsonException e)
        {
            // The walk should have found everything System.Text.Json refuses; this keeps a miss from crashing.
            var path = e.Path is null or "$" ? "$" : e.Path.TrimStart('$', '.');
            problems.Add(path, e.Message);
            return null;
        }
    }

    /// <summary>True when the value can be read as the type (after repairs inside it); otherwise the problem is recorded.</summary>
    private static bool Check(JsonNode node, Type type, string path, string? hint, ConfigProblems problems)
    {
        switch (ConfigValues.ShapeOf(type, out var element))
        {
            case ConfigValues.Shape.Object when node is JsonObject o:
                CheckObject(o, type, path, problems);
                return true;
            case ConfigValues.Shape.List when node is JsonArray a:
                CheckItems(a, element!, path, problems);
                return true;
            case ConfigValues.Shape.Map when node is JsonObject m:
                foreach (var (key, value) in m.ToList())
                {
                    if (value is null || !Check(value, element!, ConfigProblems.Join(path, key), null, problems)) m.Remove(key);
                }
                return true;
            case ConfigValues.Shape.Value when Converts(node, type):
                return true;
        }
        var isEnum = (Nullable.GetUnderlyingType(type) ?? type).IsEnum;   // its message already lists what is allowed
        problems.Add(path, ConfigValues.Mismatch(node, type) + (hint is null || isEnum ? "" : $"; {hint}"));
        return false;
    }

    private static void CheckObject(JsonObject node, Type type, string path, ConfigProblems problems)
    {
        var fields = ConfigValues.FieldsOf(type).ToList();
        var rejected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in node.ToList())
        {
            var child = ConfigProblems.Join(path, name);
            var field = fields.FirstOrDefault(f => f.Name == name);
            if (field is null)
            {
                problems.Add(child, Unknown(name, fields));
                node.Remove(name);
            }
            else if (value is null || !Check(value, field.PropertyType, child, ConfigValues.Hint(field), problems))
            {
                node.Remove(name);   // absent: the record's default applies (a required field gets a placeholder below)
                if (value is not null) rejected.Add(name);
            }
        }
        foreach (var field in fields.Where(f => f.IsRequired && !node.ContainsKey(f.Name)))
        {
            var child = ConfigProblems.Join(path, field.Name);
            if (!rejected.Contains(field.Name)) problems.Add(child, Missing(field));
            node[field.Name] = ConfigValues.Placeholder(field.PropertyType);
        }
    }

    private static void CheckItems(JsonArray items, Type element, string path, ConfigProblems problems)
    {
        var unusable = new List<int>();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var child = $"{path}[{i}]";
            if (item is null) problems.Add(child, $"expected {ConfigValues.Expected(element)}, got null");
            if (item is null || !Check(item, element, child, null, problems)) unusable.Add(i);
        }
        for (var i = unusable.Count - 1; i >= 0; i--) items.RemoveAt(unusable[i]);
    }

    private static bool Converts(JsonNode node, Type type)
    {
        // Exactly a declared name: the enum converter would also take other casings and "a, b" combinations.
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsEnum)
            return node is JsonValue v && v.GetValueKind() == JsonValueKind.String &&
                   Enum.GetNames(underlying).Select(ConfigNames.Policy.ConvertName).Contains(v.GetValue<string>());
        try
        {
            // 1e400 reads as infinity, which no field means (and which JSON cannot write back).
            return node.Deserialize(type, ConfigJson.Options) switch
            {
                double d => double.IsFinite(d),
                float f => float.IsFinite(f),
                _ => true,
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }

    private static string Missing(JsonPropertyInfo field)
    {
        var hint = ConfigValues.Hint(field);
        var type = Nullable.GetUnderlyingType(field.PropertyType) ?? field.PropertyType;
        if (hint is null) return $"missing; give {ConfigValues.Expected(field.PropertyType)}";
        return type.IsEnum ? $"missing; {hint}: one of {ConfigNames.AllOf(type)}" : $"missing; {hint}";
    }

    private static string Unknown(string name, IReadOnlyList<JsonPropertyInfo> fields)
    {
        var allowed = string.Join(", ", fields.Select(f => f.Name));
        var suggestion = NearMiss.Suggest(name, fields.Select(f => (f.Name, ConfigValues.Alias(f))));
        return $"unknown field; allowed here: {allowed}" + (suggestion is null ? "" : $"; did you mean \"{suggestion}\"?");
    }
}
