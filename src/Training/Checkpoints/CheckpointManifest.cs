using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orleans.MoE.Training.Checkpoints;

/// <summary>
/// What a checkpoint holds besides tensors: where training stood and how to continue it exactly.
/// Written last, as manifest.json, so its presence marks a complete checkpoint.
/// </summary>
public sealed record CheckpointManifest
{
    public const int CurrentFormat = 1;

    [JsonPropertyName("format")] public int Format { get; init; } = CurrentFormat;

    /// <summary>Optimizer steps completed.</summary>
    [JsonPropertyName("step")] public long Step { get; init; }

    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; init; }

    /// <summary>The resolved configuration the run was started with.</summary>
    [JsonPropertyName("config")] public JsonNode? Config { get; init; }

    /// <summary>Where the data reader stands (its own serialised position).</summary>
    [JsonPropertyName("data_position")] public JsonNode? DataPosition { get; init; }

    /// <summary>Generator states by name, base64.</summary>
    [JsonPropertyName("rng_states")] public Dictionary<string, string> RngStates { get; init; } = [];

    /// <summary>Anything else the owner needs (e.g. the balancing-bias update count, the phase).</summary>
    [JsonPropertyName("extra")] public Dictionary<string, JsonNode?> Extra { get; init; } = [];

    /// <summary>SHA-256 (hex) of each tensor file of the checkpoint, by file name.</summary>
    [JsonPropertyName("files")] public Dictionary<string, string> FileHashes { get; init; } = [];

    [JsonPropertyName("created_utc")] public DateTime CreatedUtc { get; init; }

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
}
