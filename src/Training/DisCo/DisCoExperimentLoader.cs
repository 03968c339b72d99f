using System.Text.Json;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// Reads a <see cref="DisCoExperimentConfig"/> from JSON and validates all of it before anything
/// runs: the model and the three training sections go through their own loaders, and their problems
/// are listed under the section's path (<c>model.layers.ffn.moe.top_k</c>, <c>fine_tune.optimizer.lr</c>)
/// together with the experiment's own.
/// </summary>
public static class DisCoExperimentLoader
{
    public static DisCoExperimentConfig LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DisCoExperimentException(path, [new ConfigProblem("$", "file not found; give the path of an experiment JSON file (see experiments/)")]);
        }
        return Parse(text, path);
    }

    public static DisCoExperimentConfig Parse(string json, string source = "experiment")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new DisCoExperimentException(source, [new ConfigProblem("$", $"not valid JSON (line {e.LineNumber + 1}): {e.Message}")]);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new DisCoExperimentException(source, [new ConfigProblem("$", "expected a JSON object at the top level")]);
            var problems = new ConfigProblems();
            var r = new ConfigReader(document.RootElement, "", problems);
            var name = r.String("name", true, "name the experiment (used in the report)");
            var model = Section(r, "model", "the MoE: a model configuration (see experiments/*.model.json)", problems,
                text => ModelConfigLoader.Parse(text), e => ((ModelConfigException)e).Problems);
            var data = ReadData(r.Object("data", false, "the corpus"));
            var clustering = ReadClustering(r.Object("clustering", false, "how documents are split between experts"));
            var submodels = Training(r, "submodels", problems);
            var integration = ReadIntegration(r.Object("integration", false, "how the experts are merged"));
            var fineTune = Training(r, "fine_tune", problems);
            var stopAtBaseline = r.Bool("stop_fine_tune_at_baseline_loss", false, "true stops the fine-tune at the baseline's final loss");
            var window = r.Int("target_loss_window", false, "steps averaged when comparing the loss with the target");
            var baseline = Training(r, "baseline", problems);
            var prices = ReadPrices(r.Object("prices", false, "dollars per hour of each device class"));
            var (control, controlBudgetGiven) = ReadDenseUpcycling(r.Object("dense_upcycling", false,
                "the dense-upcycling control: one dense submodel on all data copied into every expert"));
            var cluster = ReadCluster(r.Object("cluster", false, "how the jobs run on a cluster: failure budget, device classes, fine-tune ranks"));
            r.ReportUnknownFields();

            if (model is not null)
            {
                problems.Check(model.Layers.Ffn.Kind is FfnKind.Moe or FfnKind.LatentMoe, "model.layers.ffn.kind",
                    "MoE-DisCo needs kind 'moe' or 'latent_moe' (a submodel has one expert with top-1 routing, which Multi-Head LatentMoE forbids)");
                problems.Check((model.Layers.Ffn.Moe?.NumExperts ?? 0) >= 2, "model.layers.ffn.moe.num_experts",
                    "MoE-DisCo needs at least 2 experts (one submodel per expert)");
                problems.Check(model.Layers.FirstDense < model.NumLayers, "model.layers.first_dense", "at least one layer must be an MoE layer");
                foreach (var (path, training) in new[] { ("submodels", submodels), ("fine_tune", fineTune), ("baseline", baseline) })
                {
                    if (training is null) continue;
                    problems.Check(training.ContextLength <= model.MaxSeqLen, $"{path}.context_length",
                        $"{training.ContextLength} exceeds model.max_seq_len ({model.MaxSeqLen})");
                }
            }
            CheckDenseUpcycling(control, controlBudgetGiven, model, problems);
            CheckCluster(cluster, model, fineTune, problems);
            problems.Check(window is null or >= 1, "target_loss_window", "must be at least 1");
            problems.Check(data.MaxBytesPerDomain > 0, "data.max_bytes_per_domain", "must be positive");
            problems.Check(data.ValidationFraction is > 0 and < 1, "data.validation_fraction",
                $"{data.ValidationFraction} is outside (0, 1); held-out perplexity needs a validation split, e.g. 0.05");
            problems.Check(clustering.Restarts >= 1, "clustering.restarts", "must be at least 1");
            problems.Check(clustering.BalanceSlack is null or >= 0, "clustering.balance_slack", "must be 0 or more (leave it out for plain k-means)");
            foreach (var (path, c) in new[] { ("prices.low_cost", prices.LowCost), ("prices.high_memory", prices.HighMemory) })
            {
                problems.Check(c.DollarsPerHour >= 0, $"{path}.dollars_per_hour", "must be 0 or more");
                problems.Check(c.RelativeThroughput > 0, $"{path}.relative_throughput", "must be positive (1 = as fast as this machine)");
            }
            if (problems.Count > 0) throw new DisCoExperimentException(source, problems.List);
            return new DisCoExperimentConfig
            {
                Name = name!,
                Model = model!,
                Data = data,
                Clustering = clustering,
                Submodels = submodels!,
                Integration = integration,
                FineTune = fineTune!,
                StopFineTuneAtBaselineLoss = stopAtBaseline ?? true,
                TargetLossWindow = window ?? 10,
                Baseline = baseline!,
                Prices = prices,
                DenseUpcycling = control,
                Cluster = cluster,
            };
        }
    }

    private static TrainingConfig? Training(ConfigReader r, string name, ConfigProblems problems) =>
        Section(r, name, "a training configuration (see experiments/*.training.json)", problems,
            text => TrainingConfigLoader.Parse(text), e => ((TrainingConfigException)e).Problems);

    /// <summary>Parses a section with its own loader and lists its problems under the section's path.</summary>
    private static T? Section<T>(ConfigReader r, string name, string hint, ConfigProblems problems, Func<string, T> parse,
        Func<Exception, IReadOnlyList<ConfigProblem>> problemsOf) where T : class
    {
        var section = r.Section(name, true, hint);
        if (section is null) return null;
        try
        {
            return parse(section.Value.GetRawText());
        }
        catch (Exception e) when (e is ModelConfigException or TrainingConfigException)
        {
            foreach (var p in problemsOf(e)) problems.Unreadable(p.Path == "$" ? name : $"{name}.{p.Path}", p.Message);
            return null;
        }
    }

    private static DataSpec ReadData(ConfigReader? r)
    {
        if (r is null) return new DataSpec();
        var spec = new DataSpec
        {
            Paths = r.Strings("paths", false, "corpus files or directories; leave out for the built-in Debian corpus") ?? [],
            MaxBytesPerDomain = r.Long("max_bytes_per_domain", false, "cap per domain of the built-in corpus") ?? new DataSpec().MaxBytesPerDomain,
            ValidationFraction = r.Double("validation_fraction", false, "share of documents held out, e.g. 0.05") ?? new DataSpec().ValidationFraction,
            Seed = r.UInt64("seed", false, "seed of the train/validation split") ?? 0,
        };
        r.ReportUnknownFields();
        return spec;
    }

    private static ClusteringSpec ReadClustering(ConfigReader? r)
    {
        if (r is null) return new ClusteringSpec();
        var spec = new ClusteringSpec
        {
            Method = r.Enum<PartitionMethod>("method", false, "how documents are split") ?? PartitionMethod.Kmeans,
            Metric = r.Enum<KMeansMetric>("metric", false, "the k-means distance") ?? KMeansMetric.Cosine,
            Restarts = r.Int("restarts", false, "k-means restarts") ?? 3,
            BalanceSlack = r.Double("balance_slack", false, "size-balanced clusters within (1 + slack) of an equal share"),
            Seed = r.UInt64("seed", false, "seed of the features and of k-means") ?? 0,
        };
        r.ReportUnknownFields();
        return spec;
    }

    private static IntegrationSpec ReadIntegration(ConfigReader? r)
    {
        if (r is null) return new IntegrationSpec();
        var spec = new IntegrationSpec
        {
            Averaging = r.Enum<BackboneAveraging>("averaging", false, "how the backbones are averaged") ?? BackboneAveraging.Uniform,
            Router = r.Enum<RouterInitialisation>("router", false, "where the merged router comes from") ?? RouterInitialisation.Initial,
        };
        r.ReportUnknownFields();
        return spec;
    }

    private static (DenseUpcyclingSpec Spec, bool BudgetGiven) ReadDenseUpcycling(ConfigReader? r)
    {
        if (r is null) return (new DenseUpcyclingSpec(), false);
        var budget = r.Enum<DenseUpcyclingBudget>("budget", false,
            "the dense submodel's steps: all_submodels (E x submodels.steps, the S-phase's tokens) or one_submodel (submodels.steps)");
        var spec = new DenseUpcyclingSpec
        {
            // A section that is present runs the control unless it says otherwise.
            Enabled = r.Bool("enabled", false, "true runs the control; false keeps the section but skips it") ?? true,
            Budget = budget ?? DenseUpcyclingBudget.AllSubmodels,
            Steps = r.Long("steps", false, "explicit optimizer steps of the dense submodel (instead of budget)"),
            Expert = r.Int("expert", false, "the expert slot of the MoE initialisation the dense submodel starts from") ?? 0,
        };
        r.ReportUnknownFields();
        return (spec, budget is not null);
    }

    private static void CheckDenseUpcycling(DenseUpcyclingSpec spec, bool budgetGiven, ModelConfig? model, ConfigProblems problems)
    {
        problems.Check(spec.Steps is null or >= 1, "dense_upcycling.steps", "must be at least 1 (or leave it out and give a budget)");
        problems.Check(spec.Steps is null || !budgetGiven, "dense_upcycling.steps",
            "give either steps or budget, not both: steps fixes the dense submodel's length, budget derives it from submodels.steps");
        var experts = model?.Layers.Ffn.Moe?.NumExperts ?? 0;
        if (model is not null && experts > 0)
            problems.Check(spec.Expert >= 0 && spec.Expert < experts, "dense_upcycling.expert",
                $"{spec.Expert} is not an expert slot of the model; use 0 to {experts - 1}");
        else
            problems.Check(spec.Expert >= 0, "dense_upcycling.expert", "must be 0 or more");
    }

    private static ClusterSpec ReadCluster(ConfigReader? r)
    {
        if (r is null) return new ClusterSpec();
        var defaults = new ClusterSpec();
        var spec = new ClusterSpec
        {
            MaxFailures = r.Int("max_failures", false, "failed attempts a job may have before the experiment fails") ?? defaults.MaxFailures,
            JobStallTimeoutSeconds = r.Double("job_stall_timeout_seconds", false, "seconds without progress after which a worker is stopped as failed"),
            LowCostClass = r.String("low_cost_class", false, "the device class of the submodels and clustering") ?? defaults.LowCostClass,
            HighMemoryClass = r.String("high_memory_class", false, "the device class of the baseline, integration and fine-tunes") ?? defaults.HighMemoryClass,
            FineTuneRanks = r.Int("fine_tune_ranks", false, "P, the ranks of each fine-tune (1 = one job)") ?? defaults.FineTuneRanks,
            Parallel = r.String("parallel", false, "how the fine-tune's ranks share the model: head, expert, data or auto") ?? defaults.Parallel,
            Elastic = r.Bool("elastic", false, "true restarts a failed fine-tune at the largest smaller P that fits") ?? defaults.Elastic,
            CollectiveTimeoutSeconds = r.Double("collective_timeout_seconds", false, "seconds a rank waits in a collective") ?? defaults.CollectiveTimeoutSeconds,
        };
        r.ReportUnknownFields();
        return spec;
    }

    private static void CheckCluster(ClusterSpec spec, ModelConfig? model, TrainingConfig? fineTune, ConfigProblems problems)
    {
        problems.Check(spec.MaxFailures >= 0, "cluster.max_failures", "must be 0 or more (0: the first failure fails the experiment)");
        problems.Check(spec.JobStallTimeoutSeconds is null or > 0, "cluster.job_stall_timeout_seconds", "must be positive (leave it out to wait forever)");
        problems.Check(spec.CollectiveTimeoutSeconds > 0, "cluster.collective_timeout_seconds", "must be positive");
        problems.Check(spec.LowCostClass.Length > 0, "cluster.low_cost_class", "must name a device class");
        problems.Check(spec.HighMemoryClass.Length > 0, "cluster.high_memory_class", "must name a device class");
        if (!ParallelRank.Modes.Contains(spec.Parallel))
        {
            problems.Check(false, "cluster.parallel", $"'{spec.Parallel}' is not a mode; use {string.Join(", ", ParallelRank.Modes)}");
            return;
        }
        problems.Check(spec.FineTuneRanks >= 1, "cluster.fine_tune_ranks", "must be at least 1");
        if (model is null || fineTune is null || spec.FineTuneRanks <= 1) return;
        var mode = ParallelRank.ModeFor(spec.Parallel, model);
        problems.Check(mode != ParallelMode.Head || model.Layers.Ffn.Kind == FfnKind.MultiHeadLatentMoe, "cluster.parallel",
            "head parallel needs a Multi-Head LatentMoE; use expert or data for this model");
        if (ParallelRank.Divisor(mode, model) is { } divisor)
            problems.Check(divisor % spec.FineTuneRanks == 0, "cluster.fine_tune_ranks",
                $"{spec.FineTuneRanks} ranks do not divide the model's {divisor} {(mode == ParallelMode.Head ? "heads" : "experts")}");
        var rows = fineTune.BatchSize / Math.Max(1, fineTune.MicroBatches);
        problems.Check(rows % spec.FineTuneRanks == 0, "cluster.fine_tune_ranks",
            $"{spec.FineTuneRanks} ranks do not divide the fine-tune's {rows} rows per micro-batch (batch_size / micro_batches)");
    }

    private static DevicePriceTable ReadPrices(ConfigReader? r)
    {
        if (r is null) return DevicePriceTable.Paper;
        var table = new DevicePriceTable(
            ReadClass(r.Object("low_cost", false, "the submodels' devices"), DevicePriceTable.Paper.LowCost),
            ReadClass(r.Object("high_memory", false, "the fine-tune's and baseline's devices"), DevicePriceTable.Paper.HighMemory));
        r.ReportUnknownFields();
        return table;
    }

    private static DeviceClass ReadClass(ConfigReader? r, DeviceClass fallback)
    {
        if (r is null) return fallback;
        var result = new DeviceClass(fallback.Name,
            r.Double("dollars_per_hour", false, "rental price per device-hour") ?? fallback.DollarsPerHour,
            r.Double("relative_throughput", false, "speed of this class relative to the machine that measured the times") ?? fallback.RelativeThroughput);
        r.ReportUnknownFields();
        return result;
    }
}
