using System.Globalization;

namespace Orleans.MoE.Silo.Telemetry;

/// <summary>
/// An experiment's recorded trace, read back from the span files of its directory (every process's
/// <c>traces/*.jsonl</c>): spans by id (a span emitted twice, by a coordinator that died after
/// emitting it, counts once), children under their parents, ordered by start. A span whose parent
/// is not recorded is shown as a root and counted in <see cref="Orphans"/>: after a <c>kill -9</c> of a
/// worker (or of the silo and its workers), the spans that worker still had open (its own, its
/// training run) are lost, and the ones that had ended under them are such orphans. The
/// experiment, phase and attempt spans are not lost: they are kept in grain state.
/// </summary>
public sealed class SpanTree
{
    private readonly Dictionary<string, List<SpanRecord>> _children;

    private SpanTree(IReadOnlyList<SpanRecord> spans)
    {
        Spans = spans;
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        Roots = spans.Where(s => s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)).OrderBy(s => s.Start).ToList();
        Orphans = Roots.Where(s => s.ParentSpanId is not null).ToList();
        _children = spans.Where(s => s.ParentSpanId is not null && ids.Contains(s.ParentSpanId))
            .GroupBy(s => s.ParentSpanId!).ToDictionary(g => g.Key, g => g.OrderBy(s => s.Start).ToList());
    }

    public IReadOnlyList<SpanRecord> Spans { get; }

    public IReadOnlyList<SpanRecord> Roots { get; }

    /// <summary>Spans that name a parent the files do not hold.</summary>
    public IReadOnlyList<SpanRecord> Orphans { get; }

    public IReadOnlyList<SpanRecord> ChildrenOf(SpanRecord span) => _children.TryGetValue(span.SpanId, out var c) ? c : [];

    /// <summary>The spans of an experiment directory (or of a directory of span files).</summary>
    public static SpanTree Load(string directory)
    {
        var traces = Path.Combine(directory, JsonLinesSpanExporter.DirectoryName);
        var folder = Directory.Exists(traces) ? traces : directory;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{directory}: no such directory");
        var files = Directory.GetFiles(folder, "*.jsonl").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new FileNotFoundException($"{traces}: no span files (*.jsonl); the experiment was run with the file exporter off ({MoeTelemetry.TraceFilesKey}=false) or has not started");
        var spans = new Dictionary<string, SpanRecord>();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length == 0) continue;
                // A last line without its newline is a write its process did not finish (it was killed): not a span yet.
                if (i == lines.Length - 1) break;
                var span = SpanRecord.Parse(lines[i], file, i + 1);
                spans.TryAdd(span.SpanId, span);
            }
        }
        return new SpanTree(spans.Values.ToList());
    }

    /// <summary>The tree, one span a line: name, duration, process, and the attributes that say where and how it ran.</summary>
    public void Print(TextWriter output)
    {
        foreach (var root in Roots)
        {
            output.WriteLine(Line(root) + (root.ParentSpanId is null ? "" : $"  (parent {root.ParentSpanId} not recorded)"));
            PrintChildren(output, root, "");
        }
        var orphans = Orphans.Count > 0 ? $"; {Orphans.Count} whose parent is not recorded" : "";
        output.WriteLine($"{Spans.Count} spans in {Spans.Select(s => s.TraceId).Distinct().Count()} trace(s) from {Spans.Select(s => s.Process).Distinct().Count()} kind(s) of process{orphans}");
    }

    private void PrintChildren(TextWriter output, SpanRecord span, string indent)
    {
        var children = ChildrenOf(span);
        for (var i = 0; i < children.Count; i++)
        {
            var last = i == children.Count - 1;
            output.WriteLine(indent + (last ? "└─ " : "├─ ") + Line(children[i]));
            PrintChildren(output, children[i], indent + (last ? "   " : "│  "));
        }
    }

    private static readonly string[] Shown = ["moe.job.attempt", "moe.silo", "moe.device_class", "moe.placement.chosen", "moe.training.step", "moe.job.outcome", "moe.experiment.outcome"];

    private static string Line(SpanRecord span)
    {
        var details = Shown.Where(span.Attributes.ContainsKey).Select(k => $"{k[(k.LastIndexOf('.') + 1)..]}={span.Attributes[k]}");
        var status = span.Status == "error" ? $"  ERROR: {span.StatusDescription}" : "";
        return $"{span.Name}  {Duration(span.DurationMs)}  [{span.Process}]" + (details.Any() ? "  " + string.Join(" ", details) : "") + status;
    }

    private static string Duration(double ms) => ms >= 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:F2} s")
        : string.Create(CultureInfo.InvariantCulture, $"{ms:F1} ms");
}
