using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Silo.Worker;

/// <summary>
/// The description of one attempt of a job, written by the supervisor for the worker process it
/// starts (<c>moe worker --job FILE</c>): which phase of which experiment directory, the attempt,
/// the threads, the device, and the trace context to continue.
/// </summary>
public sealed record WorkerJobFile
{
    public required string JobKey { get; init; }

    public required int Attempt { get; init; }

    public required string Phase { get; init; }

    /// <summary>The experiment directory (absolute, as this silo sees the artifact store).</summary>
    public required string ExperimentDirectory { get; init; }

    public int Threads { get; init; }

    /// <summary>Where the job trains: "cpu", or "cuda:N" for a slot of a cuda pool (see <see cref="Orleans.MoE.Torch.Device.Parse"/>).</summary>
    public string Device { get; init; } = "cpu";

    public IReadOnlyDictionary<string, string> Arguments { get; init; } = new Dictionary<string, string>();

    public string? TraceParent { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Write(string path) => AtomicFile.Write(path, s => JsonSerializer.Serialize(s, this, Json));

    public static WorkerJobFile Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkerJobFile>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty job description");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a job description ({e.Message}); the silo's supervisor writes it");
        }
    }
}
