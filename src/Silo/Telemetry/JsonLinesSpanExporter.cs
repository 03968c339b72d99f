using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenTelemetry;
using Orleans.MoE.Grains.Telemetry;

namespace Orleans.MoE.Silo.Telemetry;

/// <summary>
/// Writes each finished span of an experiment's trace as one JSON line into
/// <c>EXPERIMENT/traces/PROCESS-PID.jsonl</c>, so that a run without a collector keeps its trace.
/// Every process (silo, worker, client) appends to a file of its own: no two writers share a file,
/// and a line is written whole with one append. Spans of traces that belong to no experiment
/// (<see cref="ExperimentTraces"/>) are not written.
/// </summary>
public sealed class JsonLinesSpanExporter(string artifactRoot, string processName) : BaseExporter<Activity>
{
    public const string DirectoryName = "traces";

    private readonly string _fileName = $"{processName}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.jsonl";

    public override ExportResult Export(in Batch<Activity> batch)
    {
        var lines = new Dictionary<string, StringBuilder>();
        foreach (var activity in batch)
        {
            if (!ExperimentTraces.TryGetDirectory(activity.TraceId, out var directory)) continue;
            var path = Path.Combine(artifactRoot, directory, DirectoryName, _fileName);
            if (!lines.TryGetValue(path, out var text)) lines[path] = text = new StringBuilder();
            text.Append(SpanRecord.Of(activity, processName).ToJson()).Append('\n');
        }
        var result = ExportResult.Success;
        foreach (var (path, text) in lines)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.AppendAllText(path, text.ToString());
            }
            catch (IOException)
            {
                result = ExportResult.Failure;   // an experiment directory that went away: the other experiments' spans still count
            }
            catch (UnauthorizedAccessException)
            {
                result = ExportResult.Failure;
            }
        }
        return result;
    }
}

/// <summary>One span as the file exporter writes it and <c>moe trace</c> reads it.</summary>
public sealed record SpanRecord
{
    public required string TraceId { get; init; }

    public required string SpanId { get; init; }

    public string? ParentSpanId { get; init; }

    public required string Name { get; init; }

    public required string Source { get; init; }

    /// <summary>Which process wrote it (silo, worker, client).</summary>
    public required string Process { get; init; }

    public required DateTimeOffset Start { get; init; }

    public required double DurationMs { get; init; }

    /// <summary>ok, error, or unset.</summary>
    public string Status { get; init; } = "unset";

    public string? StatusDescription { get; init; }

    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static SpanRecord Of(Activity activity, string process) => new()
    {
        TraceId = activity.TraceId.ToHexString(),
        SpanId = activity.SpanId.ToHexString(),
        ParentSpanId = activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
        Name = activity.DisplayName,
        Source = activity.Source.Name,
        Process = process,
        Start = new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero),
        DurationMs = activity.Duration.TotalMilliseconds,
        Status = activity.Status switch { ActivityStatusCode.Ok => "ok", ActivityStatusCode.Error => "error", _ => "unset" },
        StatusDescription = activity.StatusDescription,
        Attributes = activity.TagObjects.Where(t => t.Value is not null)
            .ToDictionary(t => t.Key, t => Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? ""),
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads one line; a line that does not parse (a process killed mid-write) names the file and line.</summary>
    public static SpanRecord Parse(string line, string file, int lineNumber)
    {
        try
        {
            return JsonSerializer.Deserialize<SpanRecord>(line, Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}:{lineNumber}: not a span record ({e.Message})");
        }
    }
}
