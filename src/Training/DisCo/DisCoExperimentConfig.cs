using System.ComponentModel;
using Orleans.MoE.Config;
using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// One MoE-DisCo experiment and its baseline, as read from an experiment file (JSON or YAML,
/// snake_case): the MoE, the data, how it is split between experts, how each phase trains, how the
/// experts are merged, and the prices that turn wall time into dollars. Load it with
/// <see cref="DisCoExperimentLoader"/>, which lists every problem before any work starts.
/// </summary>
public sealed record DisCoExperimentConfig
{
    [Description("name the experiment (used in the report)")]
    public required string Name { get; init; }

    /// <summary>The MoE (kind moe or latent_moe); E = its num_experts.</summary>
    [Description("the MoE: a model configuration (see experiments/*.model.json)")]
    public required ModelConfig Model { get; init; }

    public DataSpec Data { get; init; } = new();

    public ClusteringSpec Clustering { get; init; } = new();

    /// <summary>The S-phase: each submodel on its own cluster (the paper: AdamW 1e-4 constant).</summary>
    [Description(TrainingSection)]
    public required TrainingConfig Submodels { get; init; }

    public IntegrationSpec Integration { get; init; } = new();

    /// <summary>The F-phase on all data (the paper: AdamW 3e-4, cosine, 3% warm-up, weight decay 0.01).</summary>
    [Description(TrainingSection)]
    public required TrainingConfig FineTune { get; init; }

    /// <summary>
    /// Stop the fine-tune at the first step whose training loss (mean over the last
    /// <see cref="TargetLossWindow"/> steps) reaches the baseline's final one (the paper's rule);
    /// otherwise it runs its configured steps.
    /// </summary>
    public bool StopFineTuneAtBaselineLoss { get; init; } = true;

    public int TargetLossWindow { get; init; } = 10;

    /// <summary>The same MoE from the same initialisation trained jointly on all data.</summary>
    [Description(TrainingSection)]
    public required TrainingConfig Baseline { get; init; }

    public DevicePriceTable Prices { get; init; } = new();

    /// <summary>The dense-upcycling control: off when the file has no such section, on when it has one (unless it says otherwise).</summary>
    public DenseUpcyclingSpec DenseUpcycling { get; init; } = new() { Enabled = false };

    /// <summary>How the experiment's jobs run on a cluster: failure budget, device classes, fine-tune ranks.</summary>
    public ClusterSpec Cluster { get; init; } = new();

    public int Experts => Model.Layers.Ffn.Moe?.NumExperts ?? 0;

    private const string TrainingSection = "a training configuration (see experiments/*.training.json)";
}

/// <summary>The corpus: the built-in Debian corpus when <see cref="Paths"/> is empty. The tokenizer's vocabulary is the model's.</summary>
public sealed record DataSpec
{
    public ValueList<string> Paths { get; init; } = [];

    public long MaxBytesPerDomain { get; init; } = 512 * 1024;

    public double ValidationFraction { get; init; } = 0.05;

    public ulong Seed { get; init; }
}

public enum PartitionMethod
{
    /// <summary>k-means on document features (the paper).</summary>
    Kmeans,

    /// <summary>Documents dealt to clusters at random in equal numbers (the paper's ablation).</summary>
    Random,
}

public sealed record ClusteringSpec
{
    public PartitionMethod Method { get; init; } = PartitionMethod.Kmeans;

    public KMeansMetric Metric { get; init; } = KMeansMetric.Cosine;

    public int Restarts { get; init; } = 3;

    /// <summary>Size-balanced clusters within (1 + slack) of an equal share of the tokens; null = plain k-means.</summary>
    public double? BalanceSlack { get; init; }

    public ulong Seed { get; init; }

    /// <summary>
    /// Data shards of the clustering: on a cluster, one DataShard job per shard (on the low-cost class)
    /// featurises its range of the documents and takes part in every k-means round. The result is the
    /// same for any number of shards.
    /// </summary>
    public int Shards { get; init; } = 1;
}

public enum BackboneAveraging
{
    /// <summary>The plain mean of the E backbones.</summary>
    Uniform,

    /// <summary>Weighted by the training tokens of each cluster (WP-SGD style, for imbalanced clusters).</summary>
    WeightedByTokens,
}

public enum RouterInitialisation
{
    /// <summary>The router of the MoE's own initialisation, untouched by the submodels (a fresh router: the paper).</summary>
    Initial,

    /// <summary>The submodels' single-expert router rows stacked in expert order ("initialised by tensor concatenation").</summary>
    Concatenation,
}

public sealed record IntegrationSpec
{
    public BackboneAveraging Averaging { get; init; } = BackboneAveraging.Uniform;

    public RouterInitialisation Router { get; init; } = RouterInitialisation.Initial;
}

/// <summary>How long the control's dense submodel trains when no explicit step count is given.</summary>
public enum DenseUpcyclingBudget
{
    /// <summary>E x submodels.steps: the same tokens as the E submodels together (the default).</summary>
    AllSubmodels,

    /// <summary>submodels.steps: the same steps, and about the same time, as one submodel.</summary>
    OneSubmodel,
}

/// <summary>
/// The dense-upcycling control: one dense submodel (the shared backbone + one expert, decomposed
/// exactly as DisCo's submodels) trained on all the data, copied into every expert slot, given the
/// router DisCo's integration would give it, then fine-tuned like DisCo. It separates what the
/// clusters and independent branches contribute from what cheap dense pre-training alone does.
/// </summary>
public sealed record DenseUpcyclingSpec
{
    /// <summary>A section that is present runs the control unless it says otherwise.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>How the dense submodel's steps follow from the S-phase; absent means <see cref="DenseUpcyclingBudget.AllSubmodels"/>.</summary>
    public DenseUpcyclingBudget? Budget { get; init; }

    /// <summary>Optimizer steps of the dense submodel, instead of <see cref="Budget"/> (giving both is refused).</summary>
    public long? Steps { get; init; }

    /// <summary>The expert slot of the MoE initialisation the dense submodel starts from.</summary>
    public int Expert { get; init; }

    /// <summary>The dense submodel's steps: <see cref="Steps"/>, or the budget rule applied to the S-phase.</summary>
    public long ResolvedSteps(TrainingConfig submodels, int experts) =>
        Steps ?? (ResolvedBudget == DenseUpcyclingBudget.AllSubmodels ? experts * submodels.Steps : submodels.Steps);

    public DenseUpcyclingBudget ResolvedBudget => Budget ?? DenseUpcyclingBudget.AllSubmodels;
}

/// <summary>
/// How an experiment runs on a cluster: each job's failure budget, the stall timeout, the device
/// classes its phases ask for, and the ranks of its fine-tunes (P = 1: one job; P > 1: a group
/// gang-placed on P distinct silos of the high-memory class, head or expert parallel).
/// </summary>
public sealed record ClusterSpec
{
    /// <summary>Failed attempts a job may have before the experiment fails (Ray Train's max_failures).</summary>
    public int MaxFailures { get; init; } = 3;

    /// <summary>A worker that reports no progress for this long is stopped and counted as failed; null waits forever.</summary>
    public double? JobStallTimeoutSeconds { get; init; }

    /// <summary>The device class of the submodels, clustering and the control's dense submodel.</summary>
    public string LowCostClass { get; init; } = "low-cost";

    /// <summary>The device class of the baseline, integration, fine-tunes and evaluations.</summary>
    public string HighMemoryClass { get; init; } = "high-memory";

    /// <summary>P, the ranks of each fine-tune.</summary>
    public int FineTuneRanks { get; init; } = 1;

    /// <summary>How the fine-tune's ranks share the model: head, expert, data or auto.</summary>
    public string Parallel { get; init; } = "auto";

    /// <summary>After a failure, restart at the largest smaller P that fits the free silos, instead of waiting for P of them.</summary>
    public bool Elastic { get; init; }

    /// <summary>Seconds a rank waits at the rendezvous and in each collective before its group fails.</summary>
    public double CollectiveTimeoutSeconds { get; init; } = 120;
}
