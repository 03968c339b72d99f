using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// The run's metrics as JSON Lines (<c>metrics.jsonl</c>), one object per event with an <c>event</c>
/// field (train, eval, checkpoint) and the <c>step</c> it belongs to. Each line is flushed when
/// written. On resume from the checkpoint of step s, lines of later steps (written after that
/// checkpoint by the interrupted run) are dropped first, so every step appears once.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private readonly StreamWriter _writer;

    private MetricsLog(string path, FileMode mode)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, mode, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>A new, empty log (an existing file is replaced).</summary>
    public static MetricsLog Create(string path) => new(path, FileMode.Create);

    /// <summary>Keeps the lines of steps up to <paramref name="step"/> (rewritten atomically) and appends after them.</summary>
    public static MetricsLog ContinueAfter(string path, long step)
    {
        if (File.Exists(path))
        {
            var kept = File.ReadLines(path).Where(line => StepOf(line) is { } s && s <= step).ToList();
            AtomicFile.Write(path, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
                foreach (var line in kept) writer.Write(line + "\n");
            });
        }
        return new MetricsLog(path, FileMode.Append);
    }

    /// <summary>Every line of a log, parsed.</summary>
    public static IReadOnlyList<JsonObject> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    public void Write(StepCompleted s) => Write(new JsonObject
    {
        ["event"] = "train",
        ["step"] = s.Step,
        ["loss"] = Number(s.Loss),
        ["lm_loss"] = Number(s.LanguageModelLoss),
        ["aux_loss"] = s.AuxLoss is { } aux ? Number(aux) : null,
        ["lr"] = s.LearningRate,
        ["grad_norm"] = Number(s.GradNorm),
        ["tokens"] = s.TokensSeen,
        ["tokens_per_second"] = Number(s.TokensPerSecond),
        ["seconds"] = Number(s.Seconds),
        ["routing"] = new JsonArray(s.Routing.Select(Routing).ToArray()),
        ["communication"] = s.Communication is { } ranks
            ? new JsonArray(ranks.SelectMany((records, rank) => records.Select(r => Communication(rank, r))).ToArray())
            : null,
    });

    public void Write(EvaluationCompleted e) => Write(new JsonObject
    {
        ["event"] = "eval",
        ["step"] = e.Step,
        ["loss"] = Number(e.Loss),
        ["perplexity"] = Number(e.Perplexity),
        ["tokens"] = e.Tokens,
        ["windows"] = e.Windows,
        ["seconds"] = Number(e.Seconds),
    });

    public void Write(CheckpointSaved c) => Write(new JsonObject
    {
        ["event"] = "checkpoint",
        ["step"] = c.Step,
        ["directory"] = c.Directory,
    });

    private static JsonNode Routing(RoutingMetrics m) => new JsonObject
    {
        ["layer"] = m.Layer,
        ["head"] = m.Head,
        ["max_over_mean"] = Number(m.MaxOverMean),
        ["mean_load"] = m.TokensPerExpert.Length == 0 ? null : Number(m.TokensPerExpert.Average()),
        ["max_load"] = m.TokensPerExpert.Length == 0 ? null : m.TokensPerExpert.Max(),
        ["cv"] = Number(m.CoefficientOfVariation),
        ["normalized_load_entropy"] = Number(m.NormalizedLoadEntropy),
        ["router_entropy"] = m.RouterEntropy is { } h ? Number(h) : null,
        ["tokens_per_expert"] = new JsonArray(m.TokensPerExpert.Select(c => (JsonNode?)c).ToArray()),
    };

    private static JsonNode Communication(int rank, CommunicationRecord r) => new JsonObject
    {
        ["rank"] = rank,
        ["layer"] = r.Layer,
        ["collective"] = r.Collective,
        ["calls"] = r.Traffic.Calls,
        ["bytes_sent"] = r.Traffic.BytesSent,
        ["bytes_received"] = r.Traffic.BytesReceived,
        ["remote_bytes_sent"] = r.Traffic.RemoteBytesSent,
        ["remote_bytes_received"] = r.Traffic.RemoteBytesReceived,
    };

    /// <summary>JSON has no NaN or infinity: those are written as null.</summary>
    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private void Write(JsonObject line) => _writer.Write(line.ToJsonString() + "\n");

    private static long? StepOf(string line)
    {
        if (line.Length == 0) return null;
        try
        {
            return JsonNode.Parse(line)?["step"]?.GetValue<long>();
        }
        catch (JsonException)
        {
            return null;   // a line cut short by a crash: dropped
        }
    }

    public void Dispose() => _writer.Dispose();
}
