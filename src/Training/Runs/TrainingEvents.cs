using Orleans.MoE.Model.Routing;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Runs;

/// <summary>What the trainer reports while it runs, in order, on the training thread.</summary>
public abstract record TrainingEvent(long Step);

/// <summary>The run is ready: from scratch (Step 0) or resumed from the checkpoint of Step.</summary>
public sealed record RunStarted(long Step, long TotalSteps, long TokensSeen, bool Resumed, string? ResumedFrom) : TrainingEvent(Step);

/// <summary>
/// One optimizer step, <see cref="TrainingEvent.Step"/> counted from 1. Loss = LanguageModelLoss + AuxLoss,
/// each the mean over the micro-batches of their mean token losses; GradNorm is the global norm before
/// clipping; Routing holds the expert load of the step's whole batch, per routed layer (and head).
/// Communication (multi-process runs only) holds, per rank, the bytes each collective moved in the step.
/// </summary>
public sealed record StepCompleted(
    long Step,
    double Loss,
    double LanguageModelLoss,
    double? AuxLoss,
    double LearningRate,
    double GradNorm,
    long TokensSeen,
    double TokensPerSecond,
    double Seconds,
    IReadOnlyList<RoutingMetrics> Routing,
    IReadOnlyList<IReadOnlyList<CommunicationRecord>>? Communication = null) : TrainingEvent(Step);

/// <summary>Held-out evaluation after Step: Loss is the mean token NLL over Tokens targets of Windows windows; Perplexity = exp(Loss).</summary>
public sealed record EvaluationCompleted(long Step, double Loss, double Perplexity, long Tokens, long Windows, double Seconds) : TrainingEvent(Step);

public sealed record CheckpointSaved(long Step, string Directory) : TrainingEvent(Step);

/// <summary>
/// On resume, a checkpoint newer than the one resumed from (<paramref name="ResumedStep"/>) that failed
/// verification: its problem (naming the file), and where it was moved aside (null on ranks that do not
/// write the run directory). Reported before <see cref="RunStarted"/>.
/// </summary>
public sealed record CheckpointSkipped(long Step, string Directory, string Problem, string? MovedTo, long ResumedStep) : TrainingEvent(Step)
{
    /// <summary>The warning shown for it (two lines).</summary>
    public string Warning =>
        $"warning: the checkpoint of step {Step} is damaged and was skipped: {Problem}" + Environment.NewLine +
        $"warning: resuming from the checkpoint of step {ResumedStep} instead" +
        (MovedTo is null ? "" : $"; the damaged one was moved to {MovedTo} (not deleted)");
}

/// <summary>How a run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>Every configured step ran.</summary>
    Completed,

    /// <summary>The cancellation token fired; a checkpoint holds the last completed step.</summary>
    Cancelled,

    /// <summary>The job's StopAfterStep was reached; a checkpoint holds it.</summary>
    Stopped,
}

/// <summary>The end of <see cref="Trainer.Run"/>: how it ended, at which step, and the newest checkpoint.</summary>
public sealed record TrainingResult(TrainingOutcome Outcome, long Step, long TokensSeen, string CheckpointDirectory, EvaluationCompleted? LastEvaluation);
