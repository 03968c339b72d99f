using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// Runs an MoE-DisCo experiment and its baseline in this process, phase after phase: prepare the
/// corpus, cluster it, train the baseline (its final loss is the fine-tune's target), train the E
/// submodels one after another, integrate, fine-tune, evaluate, then (when the experiment enables it)
/// the dense-upcycling control's phases (<see cref="DenseUpcyclingControl"/>), report. Each phase is a plain
/// library call; a finished phase is recorded in state.json and skipped when the experiment runs
/// again, and an interrupted training phase resumes from its last checkpoint.
/// </summary>
public static class DisCoRunner
{
    public static DisCoResults Run(DisCoExperimentConfig config, string experimentText, string directory, TextWriter log,
        IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default)
    {
        var layout = new DisCoLayout(Path.GetFullPath(directory));
        OutputDirectory.Claim(layout.Root, DisCoLayout.Kind, inputs: config.Data.Paths).Open();
        Directory.CreateDirectory(layout.Root);
        if (File.Exists(layout.ResolvedConfig) && File.ReadAllText(layout.ResolvedConfig) != experimentText)
            throw new RunDirectoryException(
                $"{layout.Root} holds another experiment ({layout.ResolvedConfig} differs from this file); choose another directory or delete it");
        AtomicFile.Write(layout.ResolvedConfig, s => s.Write(System.Text.Encoding.UTF8.GetBytes(experimentText)));
        var state = DisCoState.Open(layout.State);
        var experts = config.Experts;

        Phase(state, "prepare", log, () =>
        {
            IReadOnlyList<ICorpusSource> sources = config.Data.Paths.Count == 0
                ? [new BuiltInCorpus(maxBytesPerDomain: config.Data.MaxBytesPerDomain)]
                : config.Data.Paths.Select(p => (ICorpusSource)new UserCorpus(p)).ToList();
            var corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
            {
                Sources = sources, OutputDirectory = layout.Corpus, VocabSize = config.Model.VocabSize,
                ValidationFraction = config.Data.ValidationFraction, Seed = config.Data.Seed, Log = log,
            });
            return new JsonObject { ["train_tokens"] = corpus.Manifest.Train.Tokens, ["validation_tokens"] = corpus.Manifest.Validation.Tokens };
        });

        Phase(state, "cluster", log, () =>
        {
            long[] tokens;
            var measurements = new JsonObject { ["method"] = config.Clustering.Method.ToString().ToLowerInvariant() };
            if (config.Clustering.Method == PartitionMethod.Random)
            {
                tokens = RandomPartition.Run(layout.Corpus, layout.Clusters, experts, config.Clustering.Seed);
            }
            else
            {
                var report = CorpusClustering.Run(new CorpusClusteringOptions
                {
                    CorpusDirectory = layout.Corpus, OutputDirectory = layout.Clusters, Clusters = experts,
                    Metric = config.Clustering.Metric, Restarts = config.Clustering.Restarts,
                    BalanceSlack = config.Clustering.BalanceSlack, Seed = config.Clustering.Seed, Log = log,
                });
                tokens = report.ClusterSummaries.Select(c => c.Tokens).ToArray();
                measurements["nmi"] = report.NormalizedMutualInformation;
                measurements["purity"] = report.Purity;
            }
            measurements["cluster_tokens"] = new JsonArray(tokens.Select(t => (JsonNode)t).ToArray());
            return measurements;
        });

        // The MoE's one initialisation, shared by the baseline and every submodel.
        using var initial = new Transformer(config.Model);
        var initialState = initial.StateDict();
        var corpusTrain = new[] { layout.CorpusShard(CorpusSplits.Train) };
        var corpusValidation = new[] { layout.CorpusShard(CorpusSplits.Validation) };

        Phase(state, "baseline", log, () => Training(PhaseTraining.Run(
            new PhaseTrainingJob(config.Model, config.Baseline, corpusTrain, corpusValidation, layout.Baseline, initialState),
            progress, cancellation, targetWindow: config.TargetLossWindow)));
        var target = config.StopFineTuneAtBaselineLoss ? PhaseTraining.Summarise(layout.Baseline, window: config.TargetLossWindow).FinalLoss : (double?)null;

        var submodelConfig = ExpertDecomposition.SubmodelConfig(config.Model);
        for (var k = 0; k < experts; k++)
        {
            var expert = k;
            Phase(state, $"submodel-{expert}", log, () =>
            {
                var slice = ExpertDecomposition.SubmodelState(config.Model, initialState, expert);
                try
                {
                    return Training(PhaseTraining.Run(
                        new PhaseTrainingJob(submodelConfig, config.Submodels, [layout.ClusterShard(expert, CorpusSplits.Train)],
                            [layout.ClusterShard(expert, CorpusSplits.Validation)], layout.Submodel(expert), slice),
                        progress, cancellation, targetWindow: config.TargetLossWindow));
                }
                finally
                {
                    foreach (var t in slice.Values) t.Dispose();
                }
            });
        }

        Phase(state, "integrate", log, () =>
        {
            var clusterTokens = state.Get("cluster")["cluster_tokens"]!.AsArray().Select(n => (double)n!.GetValue<long>()).ToList();
            var submodels = Enumerable.Range(0, experts).Select(k => FinalWeights(layout.Submodel(k))).ToList();
            try
            {
                var merged = ExpertIntegration.Integrate(config.Model, submodels,
                    config.Integration.Averaging == BackboneAveraging.WeightedByTokens ? clusterTokens : null,
                    config.Integration.Router == RouterInitialisation.Initial ? initialState : null);
                using var model = new Transformer(config.Model);
                model.LoadStateDict(merged);
                SafeTensors.Save(layout.Integrated, model.StateDict());
                foreach (var t in merged.Values) t.Dispose();
                var heldOut = DisCoEvaluation.Perplexity(model, corpusValidation, config.FineTune.ContextLength,
                    config.FineTune.MicroBatchSize, EvaluationWindows(config));
                log.WriteLine($"integrated model before fine-tuning: held-out perplexity {heldOut.Perplexity:F2}");
                return new JsonObject { ["held_out_loss"] = heldOut.Loss, ["held_out_perplexity"] = heldOut.Perplexity };
            }
            finally
            {
                foreach (var s in submodels) foreach (var t in s.Values) t.Dispose();
            }
        });

        Phase(state, "fine_tune", log, () =>
        {
            var (merged, _) = SafeTensors.Load(layout.Integrated);
            try
            {
                var result = PhaseTraining.Run(new PhaseTrainingJob(config.Model, config.FineTune, corpusTrain, corpusValidation, layout.FineTune, merged),
                    progress, cancellation, target, config.TargetLossWindow);
                var measurements = Training(result);
                measurements["target_loss"] = target;
                return measurements;
            }
            finally
            {
                foreach (var t in merged.Values) t.Dispose();
            }
        });

        Phase(state, "evaluate", log, () => DisCoFinalEvaluation.Run(config, layout, FinalWeights(layout.Baseline), FinalWeights(layout.FineTune), log));

        if (config.DenseUpcycling.Enabled)
            DenseUpcyclingControl.Run(config, layout, state, initialState, target, log, progress, cancellation);

        var results = DisCoResults.From(config, layout, state);
        DisCoReport.Write(results, layout);
        log.WriteLine($"report: {layout.Report}");
        return results;
    }

    /// <summary>Windows of the held-out split evaluated: the fine-tune's eval.batches, or all of them.</summary>
    internal static long? EvaluationWindows(DisCoExperimentConfig config) =>
        config.FineTune.Evaluation.Batches is { } b ? (long)b * (config.FineTune.Evaluation.BatchSize ?? config.FineTune.MicroBatchSize) : null;

    internal static void Phase(DisCoState state, string name, TextWriter log, Func<JsonObject> run)
    {
        if (state.IsDone(name))
        {
            log.WriteLine($"phase {name}: done earlier, skipped");
            return;
        }
        log.WriteLine($"phase {name}: starting");
        var clock = Stopwatch.StartNew();
        var measurements = run();
        measurements["wall_seconds"] = clock.Elapsed.TotalSeconds;
        state.Complete(name, measurements);
        log.WriteLine($"phase {name}: done in {clock.Elapsed.TotalSeconds:F1} s");
    }

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
