using Orleans.MoE.Config;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// Reads a <see cref="DisCoExperimentConfig"/> from a JSON or YAML experiment file (by extension) and
/// validates all of it before anything runs (<see cref="DisCoExperimentValidator"/>): the model's and
/// the three training sections' problems are listed under the section's path
/// (<c>model.layers.ffn.moe.top_k</c>, <c>fine_tune.optimizer.lr</c>) together with the experiment's own.
/// </summary>
public static class DisCoExperimentLoader
{
    public static ConfigSchema<DisCoExperimentConfig> Schema { get; } =
        new("experiment file", "an experiment file (see experiments/disco-demo.json)", DisCoExperimentValidator.Collect);

    public static DisCoExperimentConfig LoadFile(string path) => Schema.LoadFile(path);

    /// <summary>Parses and validates; <paramref name="source"/> names the input in error messages (a .yaml or .yml name reads YAML).</summary>
    public static DisCoExperimentConfig Parse(string text, string source = "experiment") => Schema.Parse(text, source);

    /// <summary>
    /// The experiment as an experiment directory records it (experiment.json): canonical JSON, keys
    /// sorted and defaults filled in, so that the same experiment gives the same text whatever its
    /// file's comments, formatting or syntax.
    /// </summary>
    public static string ToCanonicalJson(DisCoExperimentConfig config) => Schema.ToCanonicalJson(config);

    /// <summary>
    /// Whether <paramref name="recorded"/> (an experiment.json) holds this experiment. A directory made
    /// before experiment.json was canonical holds the file's own text; it is read and canonicalised
    /// first. A record that no longer reads as an experiment is another experiment.
    /// </summary>
    public static bool IsSameExperiment(string recorded, DisCoExperimentConfig config)
    {
        var canonical = ToCanonicalJson(config);
        if (recorded == canonical) return true;
        try
        {
            return ToCanonicalJson(Schema.Parse(recorded, "experiment.json", ConfigFormat.Json)) == canonical;
        }
        catch (ConfigException)
        {
            return false;
        }
    }
}
