using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.DisCo;

/// <summary>One training phase of an experiment: where it runs, on what, from which weights.</summary>
public sealed record PhaseTrainingJob(
    ModelConfig Model,
    TrainingConfig Training,
    IReadOnlyList<string> TrainPaths,
    IReadOnlyList<string>? ValidationPaths,
    string RunDirectory,
    IReadOnlyDictionary<string, Tensor>? InitialWeights,
    ParallelContext? Parallel = null,
    long? Attempt = null,
    Device? Device = null);

/// <summary>How a training phase ended, with the time it spent training (over every resumption).</summary>
public sealed record PhaseTrainingResult(long Steps, double TrainingSeconds, double FinalLoss, double? HeldOutLoss, bool ReachedTarget);

/// <summary>
/// Runs a training phase to its end, resuming it when its run directory already holds a checkpoint
/// (an interrupted pipeline continues where it stopped). An optional target stops it at the first
/// step whose recent mean training loss reaches the target (the paper's stopping rule for the
/// fine-tune); the mean is rebuilt from metrics.jsonl on resume, so the rule is the same either way.
/// </summary>
public static class PhaseTraining
{
    public static PhaseTrainingResult Run(PhaseTrainingJob job, IProgress<TrainingEvent>? progress, CancellationToken cancellation,
        double? targetLoss = null, int targetWindow = 10)
    {
        var checkpoints = new CheckpointStore(TrainingJob.CheckpointDirectoryOf(job.RunDirectory));
        var resume = checkpoints.LatestStep is not null;
        var recent = new Queue<double>(RecentLosses(job.RunDirectory, targetWindow));
        var reached = targetLoss is { } t0 && recent.Count == targetWindow && recent.Average() <= t0;

        if (!reached)
        {
            using var data = TrainingData.Open(job.TrainPaths, job.ValidationPaths, job.Training.ContextLength, job.Training.Seed);
            using var trainer = Trainer.Create(new TrainingJob
            {
                Model = job.Model,
                Training = job.Training,
                Data = data,
                RunDirectory = job.RunDirectory,
                Resume = resume,
                InitialWeights = job.InitialWeights,
                Parallel = job.Parallel,
                Attempt = job.Attempt,
                Device = job.Device ?? Orleans.MoE.Torch.Device.Cpu,
            });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var watch = new Progress(progress, step =>
            {
                if (targetLoss is not { } target) return;
                recent.Enqueue(step.Loss);
                while (recent.Count > targetWindow) recent.Dequeue();
                if (recent.Count == targetWindow && recent.Average() <= target)
                {
                    reached = true;
                    stop.Cancel();
                }
            });
            var result = trainer.Run(watch, stop.Token);
            if (result.Outcome == TrainingOutcome.Cancelled && !reached) cancellation.ThrowIfCancellationRequested();
        }
        return Summarise(job.RunDirectory, reached, targetWindow);
    }

    /// <summary>Steps, training time, final loss (mean of the last window) and last held-out loss, from the run's metrics.</summary>
    public static PhaseTrainingResult Summarise(string runDirectory, bool reachedTarget = false, int window = 10)
    {
        var lines = MetricsLog.Read(Path.Combine(runDirectory, MetricsLog.FileName));
        var train = lines.Where(l => (string?)l["event"] == "train").ToList();
        var seconds = lines.Where(l => (string?)l["event"] is "train" or "eval").Sum(l => (double?)l["seconds"] ?? 0);
        var losses = train.Select(l => (double?)l["loss"] ?? double.NaN).ToList();
        var final = losses.Count == 0 ? double.NaN : losses.TakeLast(window).Average();
        var heldOut = lines.LastOrDefault(l => (string?)l["event"] == "eval") is { } e ? (double?)e["loss"] : null;
        return new PhaseTrainingResult(train.Count == 0 ? 0 : (long)train[^1]["step"]!, seconds, final, heldOut, reachedTarget);
    }

    private static IEnumerable<double> RecentLosses(string runDirectory, int window)
    {
        var path = Path.Combine(runDirectory, MetricsLog.FileName);
        if (!File.Exists(path)) return [];
        return MetricsLog.Read(path).Where(l => (string?)l["event"] == "train").Select(l => (double?)l["loss"] ?? double.NaN).TakeLast(window);
    }

    /// <summary>Forwards every event and lets the step watcher see training steps, on the training thread.</summary>
    private sealed class Progress(IProgress<TrainingEvent>? inner, Action<StepCompleted> onStep) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            inner?.Report(value);
            if (value is StepCompleted step) onStep(step);
        }
    }
}
