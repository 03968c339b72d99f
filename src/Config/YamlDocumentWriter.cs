using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Orleans.MoE.Config;

/// <summary>
/// Writes a JSON tree as block-style YAML that <see cref="YamlDocumentReader"/> reads back to the same
/// tree: numbers and booleans plain, strings plain unless they would read as something else (or
/// need escaping), then double-quoted; empty objects and lists in flow style (<c>{}</c>, <c>[]</c>).
/// </summary>
public static partial class YamlDocumentWriter
{
    public static string Write(JsonNode node, string? headerComment = null)
    {
        var text = new StringWriter();
        if (headerComment is not null)
        {
            foreach (var line in headerComment.Split('\n')) text.WriteLine($"# {line}".TrimEnd());
        }
        var emitter = new Emitter(text, new EmitterSettings(bestIndent: 2, bestWidth: int.MaxValue, isCanonical: false, maxSimpleKeyLength: 1024));
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, o.Count == 0 ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var (name, value) in o)
                {
                    emitter.Emit(String(name));
                    Emit(emitter, value);
                }
                emitter.Emit(new MappingEnd());
                break;
            case JsonArray a:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, a.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in a) Emit(emitter, item);
                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                emitter.Emit(String(v.GetValue<string>()));
                break;
            case null:
                emitter.Emit(Plain("null"));
                break;
            default:
                emitter.Emit(Plain(node.ToJsonString()));   // numbers (shortest round-trip form) and booleans
                break;
        }
    }

    private static Scalar String(string text) =>
        YamlDocumentReader.Resolve(text) == YamlScalarKind.String && SafePlain().IsMatch(text)
            ? Plain(text)
            : new Scalar(null, null, text, ScalarStyle.DoubleQuoted, isPlainImplicit: false, isQuotedImplicit: true);

    private static Scalar Plain(string text) => new(null, null, text, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false);

    /// <summary>Names, paths and words: nothing YAML gives a meaning (no ': ', ' #', leading indicators, edge spaces).</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_./][A-Za-z0-9_./+-]*( [A-Za-z0-9_./+(),-]+)*$")]
    private static partial Regex SafePlain();
}
