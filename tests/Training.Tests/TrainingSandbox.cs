using Orleans.MoE.Data.Shards;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

/// <summary>A temporary directory with small token shards (train and validation) and helpers to run the trainer on them.</summary>
internal sealed class TrainingSandbox : IDisposable
{
    public TrainingSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "moe-trainer-" + Guid.NewGuid().ToString("N"));
        TrainFile = Path.Combine(Root, "data", "train.tokens");
        ValidationFile = Path.Combine(Root, "data", "validation.tokens");
        TokenShardWriter.Write(TrainFile, TinyModels.Vocab, Documents(seed: 1, count: 12, length: 150));
        TokenShardWriter.Write(ValidationFile, TinyModels.Vocab, Documents(seed: 2, count: 2, length: 23));
    }

    public string Root { get; }

    public string TrainFile { get; }

    public string ValidationFile { get; }

    /// <summary>Counting runs with random restarts: a pattern a tiny model can learn a little of in a few steps.</summary>
    private static IEnumerable<int[]> Documents(int seed, int count, int length)
    {
        var random = new Random(seed);
        for (var d = 0; d < count; d++)
        {
            var tokens = new int[length];
            var value = random.Next(TinyModels.Vocab);
            for (var i = 0; i < length; i++)
            {
                value = random.Next(6) == 0 ? random.Next(TinyModels.Vocab) : (value + 1) % TinyModels.Vocab;
                tokens[i] = value;
            }
            yield return tokens;
        }
    }

    public static TrainingConfig Config(int steps = 6, int batchSize = 4, int microBatches = 1, long evalEvery = 0, long checkpointEvery = 0,
        int keep = 3, double clipNorm = 1.0) => new()
    {
        BatchSize = batchSize,
        MicroBatches = microBatches,
        ContextLength = 8,
        Steps = steps,
        Schedule = new ScheduleConfig { Kind = ScheduleKind.Cosine, WarmupSteps = 2 },
        Optimizer = new OptimizerConfig { LearningRate = 3e-3 },
        ClipNorm = clipNorm,
        Evaluation = new EvaluationConfig { Every = evalEvery, Batches = 2, BatchSize = 2 },
        Checkpoint = new CheckpointConfig { Every = checkpointEvery, Keep = keep },
        Seed = 11,
        Threads = 1,
    };

    public TrainingData OpenData(TrainingConfig training) =>
        TrainingData.Open([TrainFile], [ValidationFile], training.ContextLength, training.Seed);

    public string RunDirectory(string name) => Path.Combine(Root, "runs", name);

    public TrainingJob Job(ModelConfig model, TrainingConfig training, TrainingData data, string run, bool resume = false, long? stopAfter = null) => new()
    {
        Model = model,
        Training = training,
        Data = data,
        RunDirectory = RunDirectory(run),
        Resume = resume,
        StopAfterStep = stopAfter,
    };

    /// <summary>Creates a trainer, runs it, and returns what it reported.</summary>
    public (TrainingResult Result, EventRecorder Events) Run(ModelConfig model, TrainingConfig training, string run, bool resume = false,
        long? stopAfter = null, CancellationToken cancellation = default, Action<TrainingEvent>? onEvent = null)
    {
        using var data = OpenData(training);
        using var trainer = Trainer.Create(Job(model, training, data, run, resume, stopAfter));
        var events = new EventRecorder(onEvent);
        return (trainer.Run(events, cancellation), events);
    }

    /// <summary>The tensors of a run's newest checkpoint file (model or optimizer); the caller disposes them.</summary>
    public Dictionary<string, Tensor> LatestTensors(string run, string file)
    {
        var store = new Checkpoints.CheckpointStore(Path.Combine(RunDirectory(run), "checkpoints"));
        return store.LoadTensors(store.LatestStep!.Value, file);
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}

/// <summary>Records the trainer's events as they are reported (synchronously, unlike Progress&lt;T&gt;).</summary>
internal sealed class EventRecorder(Action<TrainingEvent>? onEvent = null) : IProgress<TrainingEvent>
{
    public List<TrainingEvent> Events { get; } = [];

    public IReadOnlyList<StepCompleted> Steps => Events.OfType<StepCompleted>().ToList();

    public IReadOnlyList<double> Losses => Steps.Select(s => s.Loss).ToList();

    public void Report(TrainingEvent value)
    {
        Events.Add(value);
        onEvent?.Invoke(value);
    }
}
