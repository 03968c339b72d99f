using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The phases an experiment has finished, with each one's measurements, saved (atomically) after every
/// phase: running the experiment again skips what is done and resumes what was interrupted.
/// </summary>
public sealed class DisCoState
{
    private readonly string _path;
    private readonly JsonObject _phases;

    private DisCoState(string path, JsonObject phases)
    {
        _path = path;
        _phases = phases;
    }

    public static DisCoState Open(string path)
    {
        if (!File.Exists(path)) return new DisCoState(path, []);
        try
        {
            return new DisCoState(path, JsonNode.Parse(File.ReadAllText(path))?["phases"] as JsonObject ?? []);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}); delete it to run every phase again");
        }
    }

    public bool IsDone(string phase) => _phases.ContainsKey(phase);

    public JsonObject Get(string phase) => _phases[phase] as JsonObject ?? throw new KeyNotFoundException($"phase '{phase}' has not finished");

    public void Complete(string phase, JsonObject measurements)
    {
        _phases[phase] = measurements;
        var document = new JsonObject { ["phases"] = _phases.DeepClone() };
        AtomicFile.Write(_path, s => JsonSerializer.Serialize(s, document, new JsonSerializerOptions { WriteIndented = true }));
    }
}
