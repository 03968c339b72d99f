using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Orleans.MoE.Config;

/// <summary>How a configuration's types look in a file, and how to say what was found: the words of every message.</summary>
internal static class ConfigValues
{
    /// <summary>The form of a value in a file.</summary>
    public enum Shape
    {
        Value,
        Object,
        List,
        Map,
    }

    /// <summary>The shape of a type as System.Text.Json reads it; <paramref name="element"/> is the item type of a list or map.</summary>
    public static Shape ShapeOf(Type type, out Type? element)
    {
        element = null;
        if (type == typeof(string)) return Shape.Value;
        var info = ConfigJson.Options.GetTypeInfo(type);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                return Shape.Object;
            case JsonTypeInfoKind.Enumerable:
                element = info.ElementType;
                return Shape.List;
            case JsonTypeInfoKind.Dictionary when info.KeyType == typeof(string):
                element = info.ElementType;
                return Shape.Map;
        }
        // A collection with its own converter (ValueList<T>) is still a list in the file.
        element = type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        return element is null ? Shape.Value : Shape.List;
    }

    /// <summary>The fields of an object type as files spell them.</summary>
    public static IEnumerable<JsonPropertyInfo> FieldsOf(Type type) => ConfigJson.Options.GetTypeInfo(type).Properties;

    /// <summary>What a value of the type looks like: "an integer", "one of constant, cosine", "an object (fields: lr, beta1)".</summary>
    public static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"one of {ConfigNames.AllOf(type)}";
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (IntegerRange(type) is { } range) return range.Min == 0 ? "a non-negative integer" : "an integer";
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number";
        if (type == typeof(TimeSpan)) return "a duration such as \"00:05:00\"";
        return ShapeOf(type, out var element) switch
        {
            Shape.Object => $"an object (fields: {string.Join(", ", FieldsOf(type).Select(p => p.IsRequired ? $"{p.Name} (required)" : p.Name))})",
            Shape.List => $"a list, each item {Expected(element!)}",
            Shape.Map => $"an object, each value {Expected(element!)}",
            _ => $"a {type.Name} value",
        };
    }

    /// <summary>The value as found: "the string \"256\"", "the number 3", "a list".</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => $"the string \"{v.GetValue<string>()}\"",
            JsonValueKind.Number => $"the number {v.ToJsonString()}",
            _ => $"the boolean {v.ToJsonString()}",
        },
        _ => node.ToJsonString(),
    };

    /// <summary>Why a value cannot be read as the type, with what is allowed instead.</summary>
    public static string Mismatch(JsonNode? node, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsEnum && node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var text = v.GetValue<string>();
            var names = Enum.GetNames(underlying).Select(ConfigNames.Policy.ConvertName).ToList();
            var suggestion = NearMiss.Suggest(text, names.Select(n => (n, n)));
            return $"'{text}' is not allowed; use one of {string.Join(", ", names)}" + (suggestion is null ? "" : $"; did you mean '{suggestion}'?");
        }
        if (IntegerRange(underlying) is { } range && node is JsonValue n && n.GetValueKind() == JsonValueKind.Number &&
            decimal.TryParse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number == decimal.Truncate(number) && (number < range.Min || number > range.Max))
        {
            return $"expected an integer from {range.Min} to {range.Max}, got the number {n.ToJsonString()}";
        }
        return $"expected {Expected(type)}, got {Describe(node)}";
    }

    /// <summary>The hint of a field: its [Description], which says what to give (e.g. "set the peak learning rate (e.g. 5e-4)").</summary>
    public static string? Hint(JsonPropertyInfo property) =>
        (property.AttributeProvider?.GetCustomAttributes(typeof(DescriptionAttribute), inherit: true).FirstOrDefault() as DescriptionAttribute)?.Description;

    /// <summary>The field's C# property name in snake_case, for near-miss suggestions when the file name differs (lr: learning_rate).</summary>
    public static string Alias(JsonPropertyInfo property) =>
        property.AttributeProvider is MemberInfo member ? ConfigNames.Policy.ConvertName(member.Name) : property.Name;

    /// <summary>A value the type accepts, standing in for one that is missing or wrong so the rest can still be checked.</summary>
    public static JsonNode? Placeholder(Type type)
    {
        if (type == typeof(string)) return JsonValue.Create("");
        switch (ShapeOf(type, out _))
        {
            case Shape.Object:
                var result = new JsonObject();
                foreach (var property in FieldsOf(type).Where(p => p.IsRequired)) result[property.Name] = Placeholder(property.PropertyType);
                return result;
            case Shape.List:
                return new JsonArray();
            case Shape.Map:
                return new JsonObject();
        }
        if (type.IsEnum) return JsonValue.Create(ConfigNames.Policy.ConvertName(Enum.GetNames(type)[0]));
        return type.IsValueType && Nullable.GetUnderlyingType(type) is null
            ? JsonSerializer.SerializeToNode(Activator.CreateInstance(type), type, ConfigJson.Options)
            : null;
    }

    private static (decimal Min, decimal Max)? IntegerRange(Type type) =>
        type == typeof(int) ? (int.MinValue, int.MaxValue)
        : type == typeof(long) ? (long.MinValue, long.MaxValue)
        : type == typeof(short) ? (short.MinValue, short.MaxValue)
        : type == typeof(sbyte) ? (sbyte.MinValue, sbyte.MaxValue)
        : type == typeof(uint) ? (uint.MinValue, uint.MaxValue)
        : type == typeof(ulong) ? (ulong.MinValue, ulong.MaxValue)
        : type == typeof(ushort) ? (ushort.MinValue, ushort.MaxValue)
        : type == typeof(byte) ? (byte.MinValue, byte.MaxValue)
        : null;
}
