using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Orleans.MoE.Config;

/// <summary>
/// Reads a YAML file (YamlDotNet) into the JSON tree the configuration layer works on. Plain
/// scalars are typed by the YAML 1.2 core schema (<c>null</c>/<c>~</c>/empty, <c>true</c>/<c>false</c>,
/// integers, floats); quoted and block scalars are always strings. Numbers become JSON numbers
/// with the same text, so a YAML file is held to exactly the rules of its JSON twin.
/// </summary>
public static partial class YamlDocumentReader
{
    private const int MaxDepth = 64;

    public static JsonNode? Read(string text, ConfigProblems problems)
    {
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            var message = e.InnerException is YamlException inner && inner.Message.Length > 0 ? $"{e.Message} {inner.Message}" : e.Message;
            problems.Add("$", $"not valid YAML (line {e.Start.Line}, column {e.Start.Column}): {message}");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some truncated input (an unclosed [ at the end), without a position.
            problems.Add("$", $"not valid YAML (after line {parser.Last.Line}, column {parser.Last.Column}): the text ends where more was expected (an unclosed [ or {{?)");
            return null;
        }
        switch (stream.Documents.Count)
        {
            case 0:
                problems.Add("$", "the file is empty; expected a YAML mapping");
                return null;
            case > 1:
                problems.Add("$", $"holds {stream.Documents.Count} YAML documents (separated by ---); give one");
                return null;
        }
        return ToNode(stream.Documents[0].RootNode, "", 0, problems);
    }

    /// <summary>Remembers where the last event that parsed ended, to place errors that come without a position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public Mark Last { get; private set; } = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is { } current) Last = current.End;
            return moved;
        }
    }

    private static JsonNode? ToNode(YamlNode node, string path, int depth, ConfigProblems problems)
    {
        if (depth > MaxDepth)
        {
            problems.Add(path.Length == 0 ? "$" : path, $"nested more than {MaxDepth} levels deep (a recursive alias?)");
            return null;
        }
        switch (node)
        {
            case YamlMappingNode mapping:
                var result = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        problems.Add(path.Length == 0 ? "$" : path, $"line {key.Start.Line}: a key must be a plain name, not a {(key is YamlSequenceNode ? "list" : "mapping")}");
                        continue;
                    }
                    result[name] = ToNode(value, ConfigProblems.Join(path, name), depth + 1, problems);
                }
                return result;
            case YamlSequenceNode sequence:
                return new JsonArray(sequence.Children.Select((e, i) => ToNode(e, $"{path}[{i}]", depth + 1, problems)).ToArray());
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                problems.Add(path.Length == 0 ? "$" : path, $"line {node.Start.Line}: unsupported YAML node {node.NodeType}");
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        var plain = scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Tag.ToString() != "tag:yaml.org,2002:str";
        if (!plain) return JsonValue.Create(text);
        return Resolve(text) switch
        {
            YamlScalarKind.Null => null,
            YamlScalarKind.True => JsonValue.Create(true),
            YamlScalarKind.False => JsonValue.Create(false),
            YamlScalarKind.Integer or YamlScalarKind.Float => JsonNode.Parse(AsJsonNumber(text)),
            _ => JsonValue.Create(text),
        };
    }

    /// <summary>What a plain scalar means under the YAML 1.2 core schema (also used by the writer to decide when a string needs quotes).</summary>
    internal static YamlScalarKind Resolve(string text)
    {
        if (text is "" or "~" or "null" or "Null" or "NULL") return YamlScalarKind.Null;
        if (text is "true" or "True" or "TRUE") return YamlScalarKind.True;
        if (text is "false" or "False" or "FALSE") return YamlScalarKind.False;
        if (DecimalInteger().IsMatch(text) || HexOrOctalInteger().IsMatch(text)) return YamlScalarKind.Integer;
        if (DecimalFloat().IsMatch(text)) return YamlScalarKind.Float;
        if (SpecialFloat().IsMatch(text)) return YamlScalarKind.SpecialFloat;
        return YamlScalarKind.String;
    }

    /// <summary>The same number as JSON text: no leading '+', digits on both sides of the point, hex and octal in decimal.</summary>
    private static string AsJsonNumber(string text)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal))
            return ulong.Parse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        if (text.StartsWith("0o", StringComparison.Ordinal))
            return Convert.ToUInt64(text[2..], 8).ToString(CultureInfo.InvariantCulture);
        var sign = text.StartsWith('-') ? "-" : "";
        var body = text.TrimStart('+', '-');
        var exponentAt = body.IndexOfAny(['e', 'E']);
        var mantissa = exponentAt < 0 ? body : body[..exponentAt];
        var exponent = exponentAt < 0 ? "" : body[exponentAt..];
        var point = mantissa.IndexOf('.');
        var whole = (point < 0 ? mantissa : mantissa[..point]).TrimStart('0');
        var fraction = point < 0 ? null : mantissa[(point + 1)..];
        return sign + (whole.Length == 0 ? "0" : whole) + (fraction is null ? "" : "." + (fraction.Length == 0 ? "0" : fraction)) + exponent;
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex DecimalInteger();

    [GeneratedRegex(@"^(0x[0-9a-fA-F]+|0o[0-7]+)$")]
    private static partial Regex HexOrOctalInteger();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex DecimalFloat();

    [GeneratedRegex(@"^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex SpecialFloat();
}

internal enum YamlScalarKind
{
    Null,
    True,
    False,
    Integer,
    Float,

    /// <summary>.inf and .nan: floats in YAML, which no configuration field accepts; kept as strings so the error names them.</summary>
    SpecialFloat,
    String,
}
