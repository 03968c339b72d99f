using System.Text.Json;

namespace Orleans.MoE.Training.Config;

/// <summary>
/// Reads the fields of one JSON object, recording instead of throwing every field that is missing,
/// of the wrong type or unknown, each under its full path (the model file's reader works the same
/// way). Reading a field declares it, so an unknown field's message can list what is allowed.
/// </summary>
internal sealed class ConfigReader
{
    private readonly JsonElement _element;
    private readonly ConfigProblems _problems;
    private readonly List<string> _declared = [];

    public ConfigReader(JsonElement element, string path, ConfigProblems problems)
    {
        _element = element;
        Path = path;
        _problems = problems;
    }

    public string Path { get; }

    public string PathOf(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    public ConfigReader? Object(string name, bool required, string hint) =>
        Read(name, required, hint, JsonValueKind.Object, "an object", v => new ConfigReader(v, PathOf(name), _problems));

    /// <summary>A nested object as raw JSON, for sections another loader reads (its problems are re-rooted by the caller).</summary>
    public JsonElement? Section(string name, bool required, string hint) =>
        Read<JsonElement?>(name, required, hint, JsonValueKind.Object, "an object", v => v.Clone());

    public bool? Bool(string name, bool required, string hint) =>
        Read<bool?>(name, required, hint, JsonValueKind.True, "true or false", v => v.GetBoolean(), JsonValueKind.False);

    public string? String(string name, bool required, string hint) =>
        Read(name, required, hint, JsonValueKind.String, "a string", v => v.GetString());

    public string[]? Strings(string name, bool required, string hint) =>
        Read(name, required, hint, JsonValueKind.Array, "an array of strings",
            v => v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) ? v.EnumerateArray().Select(e => e.GetString()!).ToArray() : null);

    public int? Int(string name, bool required, string hint) =>
        Read<int?>(name, required, hint, JsonValueKind.Number, "an integer", v => v.TryGetInt32(out var i) ? i : null);

    public long? Long(string name, bool required, string hint) =>
        Read<long?>(name, required, hint, JsonValueKind.Number, "an integer", v => v.TryGetInt64(out var i) ? i : null);

    public ulong? UInt64(string name, bool required, string hint) =>
        Read<ulong?>(name, required, hint, JsonValueKind.Number, "a non-negative integer", v => v.TryGetUInt64(out var i) ? i : null);

    public double? Double(string name, bool required, string hint) =>
        Read<double?>(name, required, hint, JsonValueKind.Number, "a number", v => v.TryGetDouble(out var d) && double.IsFinite(d) ? d : null);

    /// <summary>An enum written in snake_case (<c>warmup_stable_decay</c> for WarmupStableDecay).</summary>
    public TEnum? Enum<TEnum>(string name, bool required, string hint) where TEnum : struct, Enum
    {
        var values = System.Enum.GetValues<TEnum>();
        var allowed = string.Join(", ", values.Select(SnakeCase));
        var text = Read(name, required, $"{hint}: one of {allowed}", JsonValueKind.String, $"one of {allowed}", v => v.GetString());
        if (text is null) return null;
        foreach (var value in values)
        {
            if (SnakeCase(value) == text) return value;
        }
        _problems.Unreadable(PathOf(name), $"'{text}' is not allowed; use one of {allowed}");
        return null;
    }

    /// <summary>Records every field of this object that was never asked for (a typo, or a field from elsewhere).</summary>
    public void ReportUnknownFields()
    {
        foreach (var property in _element.EnumerateObject())
        {
            if (!_declared.Contains(property.Name))
                _problems.Unreadable(PathOf(property.Name), $"unknown field; allowed here: {string.Join(", ", _declared)}");
        }
    }

    public static string SnakeCase<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private T? Read<T>(string name, bool required, string hint, JsonValueKind kind, string expected, Func<JsonElement, T?> convert,
        JsonValueKind alsoKind = JsonValueKind.Undefined)
    {
        _declared.Add(name);
        if (!_element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) _problems.Unreadable(PathOf(name), $"missing; {hint}");
            return default;
        }
        var result = value.ValueKind == kind || value.ValueKind == alsoKind ? convert(value) : default;
        if (result is null) _problems.Unreadable(PathOf(name), $"expected {expected}, got {Describe(value)}; {hint}");
        return result;
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
