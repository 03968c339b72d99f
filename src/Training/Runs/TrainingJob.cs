using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// One training run: the model and training configurations, the data, and the run directory, which
/// receives <c>metrics.jsonl</c> and <c>checkpoints/</c>.
/// </summary>
public sealed record TrainingJob
{
    /// <summary>
    /// What a run directory is, as its marker records it: a run is started or resumed only in a new or
    /// empty directory or one that holds a run (see <see cref="OutputDirectory"/>).
    /// </summary>
    public static readonly OutputKind RunDirectoryKind = new("training-run", "a training run (moe train)", [MetricsLog.FileName], ReplacedAsAWhole: false);

    public required ModelConfig Model { get; init; }

    public required TrainingConfig Training { get; init; }

    public required TrainingData Data { get; init; }

    public required string RunDirectory { get; init; }

    /// <summary>
    /// Continue from the newest checkpoint of the run directory that verifies (it must hold one, made
    /// with the same configurations); newer damaged ones are moved aside (see <see cref="Trainer.SkippedCheckpoints"/>).
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Weights a new run starts from instead of the model's seeded initialisation (a state dict of the
    /// model: e.g. a DisCo submodel's slice of the shared MoE initialisation, or the merged MoE). Not
    /// used when resuming: the checkpoint has the weights then.
    /// </summary>
    public IReadOnlyDictionary<string, Orleans.MoE.Torch.Tensor>? InitialWeights { get; init; }

    /// <summary>Checkpoint and return once this many steps are done (for time-sliced runs); null runs to training.steps.</summary>
    public long? StopAfterStep { get; init; }

    /// <summary>
    /// This process's rank in a multi-process run (null: a single process). Every rank runs the same
    /// job on the same data and run directory; each takes its rows of every batch, rank 0 writes the
    /// metrics and the checkpoints.
    /// </summary>
    public ParallelContext? Parallel { get; init; }

    /// <summary>
    /// The attempt of a cluster's job: the trainer fences the run directory for it (see
    /// <see cref="Checkpoints.CheckpointFence"/>), so that an older attempt still alive cannot write there.
    /// </summary>
    public long? Attempt { get; init; }

    /// <summary>
    /// Where the model trains: the CPU (the default) or a GPU (cuda:N). The weights are drawn on the
    /// CPU from the model's seed and then moved, so a seed gives the same initial weights on every
    /// device; checkpoints hold host copies and load onto the job's device.
    /// </summary>
    public Orleans.MoE.Torch.Device Device { get; init; } = Orleans.MoE.Torch.Device.Cpu;

    public string MetricsPath => Path.Combine(RunDirectory, MetricsLog.FileName);

    public string CheckpointDirectory => CheckpointDirectoryOf(RunDirectory);

    public static string CheckpointDirectoryOf(string runDirectory) => Path.Combine(runDirectory, "checkpoints");
}
