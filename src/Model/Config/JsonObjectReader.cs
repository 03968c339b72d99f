using System.Text.Json;

namespace Orleans.MoE.Model.Config;

/// <summary>
/// Reads the fields of one JSON object by name and records, instead of throwing, every field that is
/// missing, of the wrong type, or not a field at all, each under its full path. Reading a field also
/// declares it, so <see cref="ReportUnknownFields"/> can list what is allowed next to a typo.
/// </summary>
internal sealed class JsonObjectReader
{
    private readonly JsonElement _element;
    private readonly ConfigProblemList _problems;
    private readonly List<string> _declared = [];

    private JsonObjectReader(JsonElement element, string path, ConfigProblemList problems)
    {
        _element = element;
        Path = path;
        _problems = problems;
    }

    public string Path { get; }

    /// <summary>A reader for the document's root, or null (with a problem recorded) when it is not an object.</summary>
    public static JsonObjectReader? Root(JsonElement element, ConfigProblemList problems)
    {
        if (element.ValueKind == JsonValueKind.Object) return new JsonObjectReader(element, "", problems);
        problems.Add("$", $"expected a JSON object at the top level, got {Describe(element)}");
        return null;
    }

    public string PathOf(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    public JsonObjectReader? Object(string name, bool required, string hint)
    {
        if (!Find(name, required, hint, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Object) return new JsonObjectReader(value, PathOf(name), _problems);
        _problems.Add(PathOf(name), $"expected an object, got {Describe(value)}; {hint}");
        return null;
    }

    public int? Int(string name, bool required, string hint)
    {
        if (!Find(name, required, hint, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var result)) return result;
        _problems.Add(PathOf(name), $"expected an integer, got {Describe(value)}; {hint}");
        return null;
    }

    public ulong? UInt64(string name, bool required, string hint)
    {
        if (!Find(name, required, hint, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var result)) return result;
        _problems.Add(PathOf(name), $"expected a non-negative integer, got {Describe(value)}; {hint}");
        return null;
    }

    public double? Double(string name, bool required, string hint)
    {
        if (!Find(name, required, hint, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var result) && double.IsFinite(result)) return result;
        _problems.Add(PathOf(name), $"expected a number, got {Describe(value)}; {hint}");
        return null;
    }

    public bool? Bool(string name, bool required, string hint)
    {
        if (!Find(name, required, hint, out var value)) return null;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        _problems.Add(PathOf(name), $"expected true or false, got {Describe(value)}; {hint}");
        return null;
    }

    /// <summary>An enum written in snake_case (<c>multi_head_latent_moe</c> for MultiHeadLatentMoe).</summary>
    public TEnum? Enum<TEnum>(string name, bool required, string hint) where TEnum : struct, Enum
    {
        if (!Find(name, required, hint, out var value)) return null;
        var allowed = string.Join(", ", System.Enum.GetValues<TEnum>().Select(ConfigNames.Of));
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            foreach (var candidate in System.Enum.GetValues<TEnum>())
            {
                if (ConfigNames.Of(candidate) == text) return candidate;
            }
            _problems.Add(PathOf(name), $"'{text}' is not allowed; use one of {allowed}");
            return null;
        }
        _problems.Add(PathOf(name), $"expected a string, got {Describe(value)}; use one of {allowed}");
        return null;
    }

    /// <summary>Records every field of this object that was never asked for: a typo, or a field of another kind.</summary>
    public void ReportUnknownFields()
    {
        foreach (var property in _element.EnumerateObject())
        {
            if (_declared.Contains(property.Name)) continue;
            _problems.Add(PathOf(property.Name), $"unknown field; allowed here: {string.Join(", ", _declared)}");
        }
    }

    /// <summary>True when the field is present and not null; a missing required field is recorded.</summary>
    private bool Find(string name, bool required, string hint, out JsonElement value)
    {
        _declared.Add(name);
        if (_element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null) return true;
        if (required) _problems.Add(PathOf(name), $"missing; {hint}");
        return false;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}
