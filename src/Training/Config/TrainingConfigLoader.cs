using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.Config;

/// <summary>
/// Reads a <see cref="TrainingConfig"/> from JSON and validates it. Every problem is reported at once,
/// under its field path with the fix; unknown fields are problems too, so a typo never falls back to
/// a default silently.
/// </summary>
public static class TrainingConfigLoader
{
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Reads and validates a training file; with <paramref name="model"/>, also checks that the two fit together.</summary>
    public static TrainingConfig LoadFile(string path, ModelConfig? model = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TrainingConfigException(path, [new ConfigProblem("$", "file not found; give the path of a training JSON file")]);
        }
        return Parse(text, path, model);
    }

    /// <summary>Parses and validates; <paramref name="source"/> names the input in error messages.</summary>
    public static TrainingConfig Parse(string json, string source = "training config", ModelConfig? model = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new TrainingConfigException(source,
                [new ConfigProblem("$", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}")]);
        }
        using (document)
        {
            var problems = new ConfigProblems();
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new TrainingConfigException(source, [new ConfigProblem("$", "expected a JSON object at the top level")]);
            var config = Read(new ConfigReader(document.RootElement, "", problems));
            TrainingConfigValidator.Collect(config, problems);
            if (model is not null) TrainingConfigValidator.CollectWithModel(config, model, problems);
            if (problems.Count > 0) throw new TrainingConfigException(source, problems.List);
            return config;
        }
    }

    /// <summary>The configuration as JSON that <see cref="Parse"/> reads back to an equal record.</summary>
    public static string ToJson(TrainingConfig config) => ToNode(config).ToJsonString(WriteOptions);

    public static JsonObject ToNode(TrainingConfig c)
    {
        var node = new JsonObject
        {
            ["batch_size"] = c.BatchSize,
            ["micro_batches"] = c.MicroBatches,
            ["context_length"] = c.ContextLength,
            ["steps"] = c.Steps,
            ["schedule"] = new JsonObject
            {
                ["kind"] = ConfigReader.SnakeCase(c.Schedule.Kind),
                ["warmup_steps"] = c.Schedule.WarmupSteps,
                ["decay_steps"] = c.Schedule.DecaySteps,
                ["min_lr"] = c.Schedule.MinLr,
            },
            ["optimizer"] = new JsonObject
            {
                ["lr"] = c.Optimizer.LearningRate,
                ["beta1"] = c.Optimizer.Beta1,
                ["beta2"] = c.Optimizer.Beta2,
                ["eps"] = c.Optimizer.Epsilon,
                ["weight_decay"] = c.Optimizer.WeightDecay,
            },
            ["clip_norm"] = c.ClipNorm,
            ["eval"] = new JsonObject
            {
                ["every"] = c.Evaluation.Every,
                ["batches"] = c.Evaluation.Batches,
                ["batch_size"] = c.Evaluation.BatchSize,
            },
            ["checkpoint"] = new JsonObject { ["every"] = c.Checkpoint.Every, ["keep"] = c.Checkpoint.Keep },
            ["balancing_bias_rate"] = c.BalancingBiasRate,
            ["seed"] = c.Seed,
            ["threads"] = c.Threads,
        };
        RemoveNulls(node);
        return node;
    }

    private static void RemoveNulls(JsonObject node)
    {
        foreach (var (name, value) in node.ToList())
        {
            if (value is null) node.Remove(name);
            else if (value is JsonObject child) RemoveNulls(child);
        }
    }

    // Missing required values read as 0 (or a placeholder record); the problem is already recorded and
    // the validator skips every check that depends on an unreadable path.

    private static TrainingConfig Read(ConfigReader r)
    {
        var config = new TrainingConfig
        {
            BatchSize = r.Int("batch_size", true, "set the sequences per optimizer step (e.g. 32)") ?? 0,
            MicroBatches = r.Int("micro_batches", false, "the forward/backward passes per step (gradient accumulation); it must divide batch_size") ?? 1,
            ContextLength = r.Int("context_length", true, "set the tokens per sequence (at most the model's max_seq_len)") ?? 0,
            Steps = r.Long("steps", true, "set the number of optimizer steps") ?? 0,
            Schedule = ReadSchedule(r.Object("schedule", true, "give { \"kind\": \"cosine\", \"warmup_steps\": ..., \"min_lr\": ... }")),
            Optimizer = ReadOptimizer(r.Object("optimizer", true, "give { \"lr\": ..., \"beta1\": 0.9, \"beta2\": 0.95, \"eps\": 1e-8, \"weight_decay\": 0.1 }")),
            ClipNorm = r.Double("clip_norm", false, "the global gradient-norm threshold (0 = off)") ?? TrainingConfig.DefaultClipNorm,
            Evaluation = ReadEvaluation(r.Object("eval", false, "give { \"every\": ..., \"batches\": ..., \"batch_size\": ... }")),
            Checkpoint = ReadCheckpoint(r.Object("checkpoint", false, "give { \"every\": ..., \"keep\": ... }")),
            BalancingBiasRate = r.Double("balancing_bias_rate", false, "the aux-free bias step per optimizer step (default 50 x optimizer.lr, 0 = off)"),
            Seed = r.UInt64("seed", false, "the data-order seed") ?? 0,
            Threads = r.Int("threads", false, "the libtorch thread count (default: all cores)"),
        };
        r.ReportUnknownFields();
        return config;
    }

    private static ScheduleConfig ReadSchedule(ConfigReader? r)
    {
        if (r is null) return new ScheduleConfig { Kind = ScheduleKind.Constant };
        var result = new ScheduleConfig
        {
            Kind = r.Enum<ScheduleKind>("kind", true, "choose the schedule") ?? ScheduleKind.Constant,
            WarmupSteps = r.Long("warmup_steps", false, "the steps of linear warm-up"),
            DecaySteps = r.Long("decay_steps", false, "the final steps of linear decay (warmup_stable_decay)"),
            MinLr = r.Double("min_lr", false, "the learning rate at the last step"),
        };
        r.ReportUnknownFields();
        return result;
    }

    private static OptimizerConfig ReadOptimizer(ConfigReader? r)
    {
        var defaults = new OptimizerConfig { LearningRate = 0 };
        if (r is null) return defaults;
        var result = new OptimizerConfig
        {
            LearningRate = r.Double("lr", true, "set the peak learning rate (e.g. 5e-4)") ?? 0,
            Beta1 = r.Double("beta1", false, "AdamW's first-moment decay, e.g. 0.9") ?? defaults.Beta1,
            Beta2 = r.Double("beta2", false, "AdamW's second-moment decay, e.g. 0.95") ?? defaults.Beta2,
            Epsilon = r.Double("eps", false, "AdamW's epsilon, e.g. 1e-8") ?? defaults.Epsilon,
            WeightDecay = r.Double("weight_decay", false, "the decoupled weight decay of matrices, e.g. 0.1") ?? defaults.WeightDecay,
        };
        r.ReportUnknownFields();
        return result;
    }

    private static EvaluationConfig ReadEvaluation(ConfigReader? r)
    {
        if (r is null) return new EvaluationConfig();
        var result = new EvaluationConfig
        {
            Every = r.Long("every", false, "evaluate every this many steps (0 = off)") ?? 0,
            Batches = r.Int("batches", false, "validation batches per evaluation (absent = the whole split)"),
            BatchSize = r.Int("batch_size", false, "sequences per evaluation batch (default: the micro-batch size)"),
        };
        r.ReportUnknownFields();
        return result;
    }

    private static CheckpointConfig ReadCheckpoint(ConfigReader? r)
    {
        var defaults = new CheckpointConfig();
        if (r is null) return defaults;
        var result = new CheckpointConfig
        {
            Every = r.Long("every", false, "save every this many steps (0 = only at the end and when cancelled)") ?? defaults.Every,
            Keep = r.Int("keep", false, "how many of the newest checkpoints to keep") ?? defaults.Keep,
        };
        r.ReportUnknownFields();
        return result;
    }
}
