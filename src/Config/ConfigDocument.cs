using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.MoE.Config;

/// <summary>
/// Parses a configuration file into a JSON tree, the one form every later step works on. JSON is
/// read with comments and trailing commas allowed; YAML goes through <see cref="YamlDocumentReader"/>.
/// Text that does not parse is reported with its line and column; a field given twice is a problem
/// too (System.Text.Json would silently keep the last one).
/// </summary>
public static class ConfigDocument
{
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>The document's tree; problems (with <c>$</c> as the path of a parse error) go to <paramref name="problems"/>.</summary>
    public static JsonNode? Parse(string text, ConfigFormat format, ConfigProblems problems) =>
        format == ConfigFormat.Yaml ? YamlDocumentReader.Read(text, problems) : ReadJson(text, problems);

    private static JsonNode? ReadJson(string text, ConfigProblems problems)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            problems.Add("$", "the file is empty; expected a JSON object");
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, JsonOptions);
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0);
            var column = CharacterColumn(text, line, (int)(e.BytePositionInLine ?? 0));
            problems.Add("$", $"not valid JSON (line {line + 1}, column {column + 1}): {WithoutPosition(e.Message)}");
            return null;
        }
        using (document) return ToNode(document.RootElement, "", problems);
    }

    private static JsonNode? ToNode(JsonElement element, string path, ConfigProblems problems)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var result = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    var child = ConfigProblems.Join(path, property.Name);
                    if (result.ContainsKey(property.Name)) problems.Add(child, "is given twice; keep one");
                    else result[property.Name] = ToNode(property.Value, child, problems);
                }
                return result;
            case JsonValueKind.Array:
                return new JsonArray(element.EnumerateArray().Select((e, i) => ToNode(e, $"{path}[{i}]", problems)).ToArray());
            case JsonValueKind.Null:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }

    /// <summary>System.Text.Json counts bytes within the line; people count characters.</summary>
    private static int CharacterColumn(string text, int line, int bytePosition)
    {
        var lines = text.Split('\n');
        if (line >= lines.Length) return bytePosition;
        var bytes = Encoding.UTF8.GetBytes(lines[line]);
        return Encoding.UTF8.GetCharCount(bytes, 0, Math.Min(bytePosition, bytes.Length));
    }

    /// <summary>The parser's message without its trailing "LineNumber: 1 | BytePositionInLine: 6." (given as line and column instead).</summary>
    private static string WithoutPosition(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd();
    }
}
