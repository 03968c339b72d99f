using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Orleans.MoE.Config;

/// <summary>
/// The one set of System.Text.Json rules every configuration record is read and written with:
/// snake_case names and enum values, comments and trailing commas allowed, unknown fields refused,
/// nulls left out when writing. A record's fields are its settable properties (init or set);
/// computed, get-only properties are not part of the file.
/// </summary>
public static class ConfigJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The value as a JSON tree, every field written (defaults included) in declaration order.</summary>
    public static JsonObject ToNode<T>(T value) where T : class =>
        JsonSerializer.SerializeToNode(value, Options)!.AsObject();

    /// <summary>Indented JSON of a tree.</summary>
    public static string Write(JsonNode node) => node.ToJsonString(Options);

    /// <summary>A copy of the tree whose object keys are sorted (ordinal), at every depth: the canonical form.</summary>
    public static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = ConfigNames.Policy,
            Converters = { new JsonStringEnumConverter(ConfigNames.Policy, allowIntegerValues: false) },
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OnlySettableProperties } },
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Drops get-only properties (derived values such as TokensPerStep) from every object contract.</summary>
    private static void OnlySettableProperties(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            if (property.Set is null && property.ObjectCreationHandling != JsonObjectCreationHandling.Populate) info.Properties.RemoveAt(i);
        }
    }
}
