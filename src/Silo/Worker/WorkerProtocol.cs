using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.MoE.Silo.Worker;

/// <summary>
/// How a worker tells its supervisor what it does: lines on stdout that start with
/// <see cref="Prefix"/>, each one JSON object with an <c>event</c> (started, progress, succeeded,
/// failed). Every other line is the worker's log. The supervisor keeps the worker's stdin open;
/// its end (the silo is gone) makes the worker exit at once, so no attempt outlives its silo.
/// </summary>
public static class WorkerProtocol
{
    public const string Prefix = "@moe ";

    /// <summary>The exit code of a worker that stopped on SIGINT/SIGTERM after checkpointing.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit code of a worker whose supervisor went away.</summary>
    public const int Orphaned = 137;

    public static string Started() => Line(new JsonObject { ["event"] = "started" });

    public static string Progress(long step, long total, double loss, double tokensPerSecond, double seconds) => Line(new JsonObject
    {
        ["event"] = "progress", ["step"] = step, ["total"] = total, ["loss"] = loss, ["tokens_per_second"] = tokensPerSecond, ["seconds"] = seconds,
    });

    public static string Succeeded(JsonObject result) => Line(new JsonObject { ["event"] = "succeeded", ["result"] = result.DeepClone() });

    public static string Failed(string error) => Line(new JsonObject { ["event"] = "failed", ["error"] = error });

    /// <summary>The event of a protocol line, or null for a log line (or a malformed one, which is logged as is).</summary>
    public static JsonObject? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        try
        {
            return JsonNode.Parse(line.AsSpan(Prefix.Length).ToString()) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Line(JsonObject o) => Prefix + o.ToJsonString();
}
