using System.Text.Json.Nodes;
using Orleans.MoE.Config;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// What a training checkpoint holds, and how it is written and read back:
/// <list type="bullet">
/// <item><c>model.safetensors</c>: the state dict (parameters and the balancing biases);</item>
/// <item><c>optimizer.safetensors</c>: AdamW's state per parameter name, <c>{name}.exp_avg</c>,
/// <c>{name}.exp_avg_sq</c> and <c>{name}.step</c> (Int64, shape [1]); parameters that never had a
/// gradient have no entries;</item>
/// <item>the manifest: step, tokens seen, the resolved model and training configurations, the
/// training data position, the trainer's generator state, and (in <c>extra.balancing_biases</c>, for
/// reading; resume takes them from the model file) each routed layer's balancing biases.</item>
/// </list>
/// <para>
/// A multi-process run saves the same files for the whole model: every rank's heads or experts are
/// gathered under their global ids (dimension 0 in global order), and rank 0 writes. The manifest's
/// <c>extra.parallel</c> records the mode and world size it was saved with. Any number of ranks (or a
/// single process) can resume from it: each takes the rows of its own part.
/// </para>
/// </summary>
internal static class TrainerCheckpoint
{
    public const string ModelFile = "model";
    public const string OptimizerFile = "optimizer";
    public const string TrainDataKey = "train";
    public const string GeneratorKey = "trainer";
    public const string BalancingBiasesKey = "balancing_biases";

    public const string ParallelKey = "parallel";

    /// <summary>Writes the checkpoint of the current step; with <paramref name="parallel"/> every rank must call it, and rank 0 writes.</summary>
    public static string Save(CheckpointStore store, TrainerState state, ITokenWindowSource data, ParallelContext? parallel = null)
    {
        using var scope = DisposeScope.Begin();
        var optimizer = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var parameters = state.Optimizer.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            var (step, expAvg, expAvgSq) = state.Optimizer.GetState(i);
            if (expAvg is null || expAvgSq is null) continue;
            var name = state.ParameterNames[i];
            optimizer[$"{name}.exp_avg"] = expAvg;
            optimizer[$"{name}.exp_avg_sq"] = expAvgSq;
            optimizer[$"{name}.step"] = Tensor.FromArray(new[] { step }, 1);
        }
        var modelState = state.Model.StateDict();
        if (parallel is not null)
        {
            var partial = state.Model.PartialTensors;
            modelState = parallel.GatherWhole(modelState, partial);
            optimizer = parallel.GatherWhole(optimizer, OptimizerPartialTensors(partial));
            if (parallel.Rank != 0)
            {
                parallel.Group.Barrier("checkpoint written");
                return store.DirectoryFor(state.Step);
            }
        }
        var manifest = new CheckpointManifest
        {
            Step = state.Step,
            TokensSeen = state.TokensSeen,
            Config = Configs(state.ModelConfig, state.TrainingConfig),
            DataPosition = new JsonObject { [TrainDataKey] = data.Position.ToString() },
            RngStates = { [GeneratorKey] = Convert.ToBase64String(state.Generator.GetState()) },
            Extra = { [BalancingBiasesKey] = BalancingBiases(state.Model, modelState) },
        };
        if (parallel is not null) manifest.Extra[ParallelKey] = new JsonObject { ["mode"] = parallel.Mode.ToString().ToLowerInvariant(), ["world_size"] = parallel.WorldSize };
        var directory = store.Save(manifest, new Dictionary<string, IReadOnlyDictionary<string, Tensor>>
        {
            [ModelFile] = modelState,
            [OptimizerFile] = optimizer,
        });
        parallel?.Group.Barrier("checkpoint written");
        return directory;
    }

    /// <summary>The optimizer entries that are partial where their parameter is: {name}.exp_avg and {name}.exp_avg_sq.</summary>
    private static Dictionary<string, RowSlice> OptimizerPartialTensors(IReadOnlyDictionary<string, RowSlice> partial) =>
        partial.SelectMany(kv => new[] { ($"{kv.Key}.exp_avg", kv.Value), ($"{kv.Key}.exp_avg_sq", kv.Value) })
            .ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>This rank's rows of every partial entry of a whole-model state; whole entries are kept as they are.</summary>
    private static Dictionary<string, Tensor> PartOf(Dictionary<string, Tensor> whole, IReadOnlyDictionary<string, RowSlice> partial, string path)
    {
        try
        {
            return PartialState.TakeRows(whole, partial);
        }
        catch (ArgumentException e)
        {
            throw CheckpointCorruptException.Of(path, e);
        }
    }

    /// <summary>Each routed layer's whole (G, N_e) bias as nested arrays, by its state-dict name.</summary>
    private static JsonObject BalancingBiases(Transformer model, IReadOnlyDictionary<string, Tensor> wholeState)
    {
        var result = new JsonObject();
        foreach (var (layer, ffn) in model.RoutedLayers)
        {
            var name = $"layers.{layer}.ffn.balancing_bias";
            var bias = wholeState[name];
            var groups = bias.Shape[0];
            var values = bias.ToArray<float>();
            var rows = Enumerable.Range(0, (int)groups)
                .Select(g => (JsonNode?)new JsonArray(values.AsSpan(g * ffn.NumExperts, ffn.NumExperts).ToArray().Select(v => (JsonNode?)v).ToArray()));
            result[name] = new JsonArray(rows.ToArray());
        }
        return result;
    }

    /// <summary>
    /// The configurations as the manifest stores them, { "model": {...}, "training": {...} }, in
    /// canonical form: every field with its default filled in, keys sorted.
    /// </summary>
    public static JsonObject Configs(ModelConfig model, TrainingConfig training) => new()
    {
        ["model"] = ConfigJson.Sorted(ModelConfigLoader.Schema.ToNode(model)),
        ["training"] = ConfigJson.Sorted(TrainingConfigLoader.ToNode(training)),
    };

    /// <summary>The configurations a checkpoint was made with.</summary>
    public static (ModelConfig Model, TrainingConfig Training) ReadConfigs(CheckpointStore store, long step, CheckpointManifest manifest) =>
        ReadConfigs(manifest, Path.Combine(store.DirectoryFor(step), CheckpointStore.ManifestFile));

    private static (ModelConfig Model, TrainingConfig Training) ReadConfigs(CheckpointManifest manifest, string path)
    {
        if (manifest.Config?["model"] is not JsonObject model || manifest.Config?["training"] is not JsonObject training)
            throw new CheckpointCorruptException(path, "config.model or config.training is missing");
        return (ModelConfigLoader.Schema.Read(model, $"{path} (config.model)"),
            TrainingConfigLoader.Schema.Read(training, $"{path} (config.training)"));
    }

    /// <summary>
    /// Restores everything a checkpoint holds into a freshly built state and positions the data.
    /// The manifest is the one <see cref="CheckpointStore.ReadManifest"/> verified the files against; a
    /// checkpoint that does not fit the model raises <see cref="CheckpointCorruptException"/> naming the file.
    /// </summary>
    public static void Restore(CheckpointStore store, long step, CheckpointManifest manifest, TrainerState state, ITokenWindowSource data)
    {
        var directory = store.DirectoryFor(step);
        var manifestPath = Path.Combine(directory, CheckpointStore.ManifestFile);
        CheckSameConfigs(manifest, state, manifestPath);

        using var scope = DisposeScope.Begin();
        var modelPath = Path.Combine(directory, ModelFile + ".safetensors");
        var partial = state.Model.PartialTensors;
        var modelState = PartOf(Load(store, step, ModelFile, modelPath), partial, modelPath);
        try
        {
            state.Model.LoadStateDict(modelState);
        }
        catch (InvalidDataException e)
        {
            throw CheckpointCorruptException.Of(modelPath, e);
        }

        var optimizerPath = Path.Combine(directory, OptimizerFile + ".safetensors");
        var optimizer = PartOf(Load(store, step, OptimizerFile, optimizerPath), OptimizerPartialTensors(partial), optimizerPath);
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < state.ParameterNames.Count; i++)
        {
            var name = state.ParameterNames[i];
            if (!optimizer.TryGetValue($"{name}.exp_avg", out var expAvg)) continue;
            if (!optimizer.TryGetValue($"{name}.exp_avg_sq", out var expAvgSq) || !optimizer.TryGetValue($"{name}.step", out var stepTensor))
                throw new CheckpointCorruptException(optimizerPath, $"the state of {name} is incomplete (exp_avg, exp_avg_sq and step belong together)");
            try
            {
                state.Optimizer.SetState(i, stepTensor.ItemInt64(), expAvg, expAvgSq);
            }
            catch (Exception e) when (e is not CheckpointCorruptException)
            {
                throw new CheckpointCorruptException(optimizerPath, $"the state of {name} does not fit the parameter: {ErrorText.Of(e)}");
            }
            used.UnionWith([$"{name}.exp_avg", $"{name}.exp_avg_sq", $"{name}.step"]);
        }
        var unexpected = optimizer.Keys.Where(k => !used.Contains(k)).ToList();
        if (unexpected.Count > 0)
            throw new CheckpointCorruptException(optimizerPath, $"holds state of no parameter of this model: {string.Join(", ", unexpected.Take(5))}");

        if (manifest.DataPosition?[TrainDataKey]?.GetValue<string>() is not { } position)
            throw new CheckpointCorruptException(manifestPath, $"data_position.{TrainDataKey} is missing");
        try
        {
            data.Seek(TokenWindowPosition.Parse(position));
        }
        catch (FormatException e)
        {
            throw CheckpointCorruptException.Of(manifestPath, e);
        }
        catch (ArgumentException e)
        {
            throw new RunDirectoryException($"{manifestPath}: the checkpoint does not fit the training data given now: {ErrorText.Of(e)}", e);
        }

        if (!manifest.RngStates.TryGetValue(GeneratorKey, out var generator))
            throw new CheckpointCorruptException(manifestPath, $"rng_states.{GeneratorKey} is missing");
        state.Generator.SetState(Convert.FromBase64String(generator));
        state.Step = manifest.Step;
        state.TokensSeen = manifest.TokensSeen;
    }

    private static Dictionary<string, Tensor> Load(CheckpointStore store, long step, string name, string path)
    {
        try
        {
            return store.LoadTensors(step, name);
        }
        catch (IOException e) when (e is not CheckpointCorruptException)
        {
            throw CheckpointCorruptException.Of(path, e);
        }
    }

    /// <summary>A resumed run continues the same run: the configurations must match, except the thread count.</summary>
    private static void CheckSameConfigs(CheckpointManifest manifest, TrainerState state, string manifestPath)
    {
        // Read back and written again, so a manifest written before a field existed compares with its default.
        var (savedModel, savedTraining) = ReadConfigs(manifest, manifestPath);
        var differences = ConfigDifferences.Between(Configs(savedModel, savedTraining), Configs(state.ModelConfig, state.TrainingConfig),
            new HashSet<string>(StringComparer.Ordinal) { "training.threads" });
        if (differences.Count > 0)
            throw new RunDirectoryException(
                $"{manifestPath}: the run was started with other settings; resume with the same model and training files, or start a new run directory. Differences:" +
                Environment.NewLine + string.Join(Environment.NewLine, differences.Select(d => "  - " + d)));
    }
}
