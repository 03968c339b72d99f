using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Clustering.Sharding;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// What one phase of an experiment needs: the experiment, where its artifacts live, the phases
/// finished so far (read only: their measurements are inputs, e.g. the cluster sizes), where
/// progress goes, for a fine-tune of several ranks this process's rank, and on a cluster the job's
/// attempt (its checkpoints are fenced: an older attempt cannot commit over a newer one's), and the
/// device its training phases run on (the CPU when absent; a silo's cuda pool gives its job a GPU).
/// </summary>
public sealed record DisCoPhaseContext(
    DisCoExperimentConfig Config,
    DisCoLayout Layout,
    DisCoState State,
    TextWriter Log,
    IProgress<TrainingEvent>? Progress = null,
    CancellationToken Cancellation = default,
    ParallelContext? Parallel = null,
    long? Attempt = null,
    Device? Device = null);

/// <summary>
/// The phases of an MoE-DisCo experiment as plain library calls: each reads its inputs from the
/// experiment directory, writes its artifacts there and returns its measurements. They know nothing
/// of one another's order or of where they run: the experiment coordinator sequences them and runs
/// each as a job in a worker process. A training phase that was interrupted resumes from its last
/// checkpoint when it runs again.
/// </summary>
public static class DisCoPhases
{
    public const string Prepare = "prepare";
    public const string Cluster = "cluster";
    public const string Baseline = "baseline";
    public const string Integrate = "integrate";
    public const string FineTune = "fine_tune";
    public const string Evaluate = "evaluate";
    public const string Report = "report";

    public static string Submodel(int expert) => $"submodel-{expert}";

    /// <summary>The training section a phase trains with, or null for a phase that does not train (prepare, integrate, evaluate...).</summary>
    public static Config.TrainingConfig? TrainingOf(DisCoExperimentConfig config, string phase) => phase switch
    {
        Baseline => config.Baseline,
        FineTune or DenseUpcyclingControl.FineTune => config.FineTune,
        DenseUpcyclingControl.Dense => config.Submodels,
        _ when ExpertOf(phase) is not null => config.Submodels,
        _ => null,
    };

    /// <summary>The expert of a submodel phase's name, or null for any other phase.</summary>
    public static int? ExpertOf(string phase) =>
        phase.StartsWith("submodel-", StringComparison.Ordinal) && int.TryParse(phase["submodel-".Length..], out var k) ? k : null;

    /// <summary>Every phase of the experiment, in an order that respects their inputs.</summary>
    public static IReadOnlyList<string> All(DisCoExperimentConfig config)
    {
        var names = new List<string> { Prepare, Cluster, Baseline };
        names.AddRange(Enumerable.Range(0, config.Experts).Select(Submodel));
        names.AddRange([Integrate, FineTune, Evaluate]);
        if (config.DenseUpcycling.Enabled) names.AddRange(DenseUpcyclingControl.Phases);
        names.Add(Report);
        return names;
    }

    /// <summary>Runs one phase and returns its measurements, with the phase's wall time.</summary>
    public static JsonObject Run(string phase, DisCoPhaseContext context)
    {
        var clock = Stopwatch.StartNew();
        var measurements = phase switch
        {
            Prepare => RunPrepare(context),
            Cluster => RunCluster(context),
            Baseline => RunBaseline(context),
            Integrate => RunIntegrate(context),
            FineTune => RunFineTune(context),
            Evaluate => RunEvaluate(context),
            Report => RunReport(context),
            _ when ExpertOf(phase) is { } k && k >= 0 && k < context.Config.Experts => RunSubmodel(context, k),
            _ when DenseUpcyclingControl.Phases.Contains(phase) && context.Config.DenseUpcycling.Enabled => DenseUpcyclingControl.Run(phase, context),
            _ => throw new ArgumentException($"'{phase}' is not a phase of experiment '{context.Config.Name}'; its phases are {string.Join(", ", All(context.Config))}"),
        };
        measurements["wall_seconds"] = clock.Elapsed.TotalSeconds;
        return measurements;
    }

    private static JsonObject RunPrepare(DisCoPhaseContext c)
    {
        var config = c.Config;
        IReadOnlyList<ICorpusSource> sources = config.Data.Paths.Count == 0
            ? [new BuiltInCorpus(maxBytesPerDomain: config.Data.MaxBytesPerDomain)]
            : config.Data.Paths.Select(p => (ICorpusSource)new UserCorpus(p)).ToList();
        var corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
        {
            Sources = sources, OutputDirectory = c.Layout.Corpus, VocabSize = config.Model.VocabSize,
            ValidationFraction = config.Data.ValidationFraction, Seed = config.Data.Seed, Log = c.Log,
        });
        return new JsonObject { ["train_tokens"] = corpus.Manifest.Train.Tokens, ["validation_tokens"] = corpus.Manifest.Validation.Tokens };
    }

    private static JsonObject RunCluster(DisCoPhaseContext c)
    {
        var (config, layout) = (c.Config, c.Layout);
        long[] tokens;
        var measurements = new JsonObject { ["method"] = config.Clustering.Method.ToString().ToLowerInvariant() };
        if (config.Clustering.Method == PartitionMethod.Random)
        {
            tokens = RandomPartition.Run(layout.Corpus, layout.Clusters, config.Experts, config.Clustering.Seed);
        }
        else
        {
            // A job of several ranks is the experiment's data shards, each a rank of one process group.
            var report = CorpusClustering.Run(new CorpusClusteringOptions
            {
                CorpusDirectory = layout.Corpus, OutputDirectory = layout.Clusters, Clusters = config.Experts,
                Metric = config.Clustering.Metric, Restarts = config.Clustering.Restarts,
                BalanceSlack = config.Clustering.BalanceSlack, Seed = config.Clustering.Seed, Log = c.Log,
            }, c.Parallel is { } shards ? new ProcessGroupShardExchange(shards.Group) : SingleShard.Instance);
            tokens = report.ClusterSummaries.Select(s => s.Tokens).ToArray();
            measurements["data_shards"] = c.Parallel?.WorldSize ?? 1;
            measurements["nmi"] = report.NormalizedMutualInformation;
            measurements["purity"] = report.Purity;
        }
        measurements["cluster_tokens"] = new JsonArray(tokens.Select(t => (JsonNode)t).ToArray());
        return measurements;
    }

    private static JsonObject RunBaseline(DisCoPhaseContext c)
    {
        using var initial = InitialWeights(c.Config);
        return Training(PhaseTraining.Run(
            new PhaseTrainingJob(c.Config.Model, c.Config.Baseline, CorpusTrain(c.Layout), CorpusValidation(c.Layout), c.Layout.Baseline, initial.Tensors, Attempt: c.Attempt, Device: c.Device),
            c.Progress, c.Cancellation, targetWindow: c.Config.TargetLossWindow));
    }

    private static JsonObject RunSubmodel(DisCoPhaseContext c, int expert)
    {
        var (config, layout) = (c.Config, c.Layout);
        using var initial = InitialWeights(config);
        using var slice = new OwnedWeights(ExpertDecomposition.SubmodelState(config.Model, initial.Tensors, expert));
        return Training(PhaseTraining.Run(
            new PhaseTrainingJob(ExpertDecomposition.SubmodelConfig(config.Model), config.Submodels,
                [layout.ClusterShard(expert, CorpusSplits.Train)], [layout.ClusterShard(expert, CorpusSplits.Validation)], layout.Submodel(expert), slice.Tensors, Attempt: c.Attempt, Device: c.Device),
            c.Progress, c.Cancellation, targetWindow: config.TargetLossWindow));
    }

    private static JsonObject RunIntegrate(DisCoPhaseContext c)
    {
        var (config, layout) = (c.Config, c.Layout);
        var clusterTokens = c.State.Get(Cluster)["cluster_tokens"]!.AsArray().Select(n => (double)n!.GetValue<long>()).ToList();
        var submodels = Enumerable.Range(0, config.Experts).Select(k => new OwnedWeights(FinalWeights(layout.Submodel(k)))).ToList();
        using var initial = InitialWeights(config);
        try
        {
            using var merged = new OwnedWeights(ExpertIntegration.Integrate(config.Model, submodels.Select(s => s.Tensors).ToList(),
                config.Integration.Averaging == BackboneAveraging.WeightedByTokens ? clusterTokens : null,
                config.Integration.Router == RouterInitialisation.Initial ? initial.Tensors : null));
            using var model = new Transformer(config.Model);
            model.LoadStateDict(merged.Tensors);
            SafeTensors.Save(layout.Integrated, model.StateDict());
            var heldOut = DisCoEvaluation.Perplexity(model, CorpusValidation(layout), config.FineTune.ContextLength,
                config.FineTune.MicroBatchSize, EvaluationWindows(config));
            c.Log.WriteLine($"integrated model before fine-tuning: held-out perplexity {heldOut.Perplexity:F2}");
            return new JsonObject { ["held_out_loss"] = heldOut.Loss, ["held_out_perplexity"] = heldOut.Perplexity };
        }
        finally
        {
            foreach (var s in submodels) s.Dispose();
        }
    }

    private static JsonObject RunFineTune(DisCoPhaseContext c)
    {
        var target = TargetLoss(c);
        using var merged = new OwnedWeights(SafeTensors.Load(c.Layout.Integrated).Tensors);
        var measurements = Training(PhaseTraining.Run(
            new PhaseTrainingJob(c.Config.Model, c.Config.FineTune, CorpusTrain(c.Layout), CorpusValidation(c.Layout), c.Layout.FineTune, merged.Tensors, c.Parallel, c.Attempt, c.Device),
            c.Progress, c.Cancellation, target, c.Config.TargetLossWindow));
        measurements["target_loss"] = target;
        return measurements;
    }

    private static JsonObject RunEvaluate(DisCoPhaseContext c) =>
        DisCoFinalEvaluation.Run(c.Config, c.Layout, FinalWeights(c.Layout.Baseline), FinalWeights(c.Layout.FineTune), c.Log);

    private static JsonObject RunReport(DisCoPhaseContext c)
    {
        var results = DisCoResults.From(c.Config, c.Layout, c.State);
        DisCoReport.Write(results, c.Layout);
        c.Log.WriteLine($"report: {c.Layout.Report}");
        return new JsonObject { ["report"] = Path.GetRelativePath(c.Layout.Root, c.Layout.Report), ["summary"] = Path.GetRelativePath(c.Layout.Root, c.Layout.Summary) };
    }

    /// <summary>The fine-tunes' stopping target: the baseline's final training loss, when the experiment stops there.</summary>
    internal static double? TargetLoss(DisCoPhaseContext c) =>
        c.Config.StopFineTuneAtBaselineLoss ? PhaseTraining.Summarise(c.Layout.Baseline, window: c.Config.TargetLossWindow).FinalLoss : null;

    internal static IReadOnlyList<string> CorpusTrain(DisCoLayout layout) => [layout.CorpusShard(CorpusSplits.Train)];

    internal static IReadOnlyList<string> CorpusValidation(DisCoLayout layout) => [layout.CorpusShard(CorpusSplits.Validation)];

    /// <summary>The MoE's one seeded initialisation, shared by the baseline, every submodel and the fresh router.</summary>
    internal static OwnedWeights InitialWeights(DisCoExperimentConfig config)
    {
        var model = new Transformer(config.Model);
        return new OwnedWeights(model.StateDict(), owner: model);
    }

    /// <summary>Windows of the held-out split evaluated: the fine-tune's eval.batches, or all of them.</summary>
    internal static long? EvaluationWindows(DisCoExperimentConfig config) =>
        config.FineTune.Evaluation.Batches is { } b ? (long)b * (config.FineTune.Evaluation.BatchSize ?? config.FineTune.MicroBatchSize) : null;

    internal static JsonObject Training(PhaseTrainingResult r) => new()
    {
        ["steps"] = r.Steps,
        ["training_seconds"] = r.TrainingSeconds,
        ["final_loss"] = double.IsFinite(r.FinalLoss) ? r.FinalLoss : null,
        ["held_out_loss"] = r.HeldOutLoss,
        ["reached_target"] = r.ReachedTarget,
    };

    /// <summary>The weights of a training run's newest checkpoint; the caller owns them.</summary>
    internal static Dictionary<string, Tensor> FinalWeights(string runDirectory)
    {
        var store = new CheckpointStore(TrainingJob.CheckpointDirectoryOf(runDirectory));
        var step = store.LatestStep ?? throw new RunDirectoryException($"{runDirectory}: the run has no checkpoint");
        store.ReadManifest(step);   // verifies the hashes
        return store.LoadTensors(step, TrainerCheckpoint.ModelFile);
    }
}

/// <summary>A state dict released as one: its tensors, or the module that owns them.</summary>
internal sealed class OwnedWeights(IReadOnlyDictionary<string, Tensor> tensors, IDisposable? owner = null) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;

    public void Dispose()
    {
        if (owner is not null) owner.Dispose();
        else foreach (var t in Tensors.Values) t.Dispose();
    }
}
