using System.Diagnostics;
using Orleans.MoE.Model;
using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Schedules;
using Orleans.MoE.Training.Telemetry;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// The single-process trainer. Per optimizer step: the gradients of <c>micro_batches</c> forward and
/// backward passes are accumulated (each loss scaled by 1 / micro_batches, so the step sees the mean
/// over the whole batch), clipped to the global norm, the learning rate is set from the schedule,
/// AdamW steps, and the balancing biases move once by the load of the whole batch. Held-out
/// evaluation and checkpoints follow at their intervals; every event goes to <c>metrics.jsonl</c> and
/// to the caller's <see cref="IProgress{T}"/>.
/// <para>
/// Resume is exact: a checkpoint holds the model (with its biases), AdamW's moments and step counts,
/// the data position and the generator state, so a run stopped at step s and resumed gives the same
/// losses and weights, bit for bit, as one that never stopped (with the same thread count).
/// </para>
/// <para>
/// With <see cref="TrainingJob.Parallel"/> this is one rank of a multi-process run (see
/// <see cref="ParallelContext"/>): every rank reads the same global batch and trains on its rows of it,
/// backpropagates its mean loss divided by P, and the shared gradients are summed before clipping, so
/// a step equals the single-process step on the whole batch within float rounding. The ranks agree to
/// stop at the same step; a failed rank or a collective timeout stops all of them with an error naming
/// the rank and the step.
/// </para>
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly TrainingJob _job;
    private readonly TrainerState _state;
    private readonly CheckpointStore _store;
    private readonly ILearningRateSchedule _schedule;
    private readonly MetricsLog? _metrics;
    private readonly string? _resumedFrom;
    private readonly ParallelContext? _parallel;
    private long? _savedStep;
    private double? _flopsPerToken;

    private Trainer(TrainingJob job, TrainingConfig training, TrainerState state, CheckpointStore store, MetricsLog? metrics, string? resumedFrom)
    {
        _parallel = job.Parallel;
        _job = job;
        Training = training;
        _state = state;
        _store = store;
        _schedule = LearningRateSchedules.From(training);
        _metrics = metrics;
        _resumedFrom = resumedFrom;
    }

    /// <summary>
    /// Checks the job (configurations together, data against the model, the run directory), sets
    /// libtorch's thread count, builds the model and optimizer, and either restores the newest
    /// checkpoint that verifies (<see cref="TrainingJob.Resume"/>; newer damaged ones are moved aside
    /// and listed in <see cref="SkippedCheckpoints"/>) or starts a new run in a run directory that
    /// holds no checkpoint. Temporary directories of checkpoint writes that a killed run left behind
    /// are removed. Nothing is written before every check has passed.
    /// </summary>
    public static Trainer Create(TrainingJob job)
    {
        var training = job.Training.Resolve();
        TrainingConfigValidator.ValidateWithModel(training, job.Model);
        job.Device.EnsureAvailable();
        CheckData(job, training);
        var parallel = job.Parallel;
        CheckParallel(parallel, training);
        // Rank 0 writes the metrics and checkpoints; the other ranks only read the run directory.
        var writesRunDirectory = parallel is null || parallel.Rank == 0;
        var runDirectory = writesRunDirectory ? OutputDirectory.Claim(job.RunDirectory, TrainingJob.RunDirectoryKind, inputs: job.Data.Files) : null;
        TorchRuntime.Threads = training.Threads!.Value;

        var store = new CheckpointStore(job.CheckpointDirectory, training.Checkpoint.Keep);
        var state = new TrainerState(job.Model, training, parallel?.Partition, job.Device);
        try
        {
            parallel?.Attach(state.Model);
            if (job.Resume)
            {
                using var load = TrainingTelemetry.Source.StartActivity("checkpoint.load");
                var checkpoint = store.LatestVerified() ?? throw new RunDirectoryException(
                    $"{job.CheckpointDirectory}: no checkpoint to resume from; start the run without resuming");
                TrainerCheckpoint.Restore(store, checkpoint.Step, checkpoint.Manifest, state, job.Data.Train);
                var skipped = checkpoint.Skipped.Select(s => new CheckpointSkipped(s.Step, s.Directory, s.Problem,
                    writesRunDirectory ? store.MoveAside(s.Step) : null, checkpoint.Step)).ToList();
                runDirectory?.Open();
                if (writesRunDirectory) Claim(store, job);
                var metrics = writesRunDirectory ? MetricsLog.ContinueAfter(job.MetricsPath, checkpoint.Step) : null;
                return new Trainer(job, training, state, store, metrics, store.DirectoryFor(checkpoint.Step))
                {
                    _savedStep = checkpoint.Step, SkippedCheckpoints = skipped,
                };
            }
            if (store.LatestStep is { } existing)
                throw new RunDirectoryException(
                    $"{job.RunDirectory} already holds a run (checkpoint of step {existing}); resume it, or choose another run directory");
            if (job.InitialWeights is { } weights)
            {
                using var scope = DisposeScope.Begin();
                state.Model.LoadStateDict(PartialState.TakeRows(weights, state.Model.PartialTensors));
            }
            // Equal shared weights on every rank whatever each loaded; the rank-local parts are each rank's own.
            parallel?.BroadcastSharedWeights(state.Model);
            runDirectory?.Open();
            if (writesRunDirectory) Claim(store, job);
            return new Trainer(job, training, state, store, writesRunDirectory ? MetricsLog.Create(job.MetricsPath) : null, null);
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The writer's hold on its run directory once it is open: stale temporaries of killed checkpoint
    /// writes go, and a job of a cluster fences the directory for its attempt.
    /// </summary>
    private static void Claim(CheckpointStore store, TrainingJob job)
    {
        store.RemoveStaleTemporaries();
        if (job.Attempt is { } attempt) store.Fence = CheckpointFence.Claim(job.RunDirectory, attempt);
    }

    /// <summary>
    /// The configurations the newest checkpoint that verifies was made with, to resume without the
    /// original files (the checkpoint <see cref="Create"/> then resumes from).
    /// </summary>
    public static (ModelConfig Model, TrainingConfig Training) ConfigsOfLatestCheckpoint(string runDirectory)
    {
        var store = new CheckpointStore(TrainingJob.CheckpointDirectoryOf(runDirectory));
        var checkpoint = store.LatestVerified() ?? throw new RunDirectoryException($"{store.Root}: no checkpoint to resume from; start the run without resuming");
        return TrainerCheckpoint.ReadConfigs(store, checkpoint.Step, checkpoint.Manifest);
    }

    /// <summary>
    /// The checkpoints newer than the one resumed from that failed verification, newest first, each
    /// with its problem and where it was moved; also reported as events when <see cref="Run"/> starts.
    /// </summary>
    public IReadOnlyList<CheckpointSkipped> SkippedCheckpoints { get; private init; } = [];

    /// <summary>The resolved training configuration.</summary>
    public TrainingConfig Training { get; }

    public Transformer Model => _state.Model;

    /// <summary>The trainer's own generator for stochastic parts of training; its state is saved with every checkpoint.</summary>
    public Generator Generator => _state.Generator;

    /// <summary>Optimizer steps completed.</summary>
    public long Step => _state.Step;

    public long TokensSeen => _state.TokensSeen;

    /// <summary>
    /// Trains until training.steps, the job's StopAfterStep, or cancellation (checked between optimizer
    /// steps), then writes a checkpoint of the last completed step unless one exists already.
    /// </summary>
    public TrainingResult Run(IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default)
    {
        using var run = TrainingTelemetry.Source.StartActivity("training.run");
        run?.SetTag("moe.training.steps", Training.Steps);
        run?.SetTag("moe.training.start_step", Step);
        try
        {
            var result = RunSteps(progress, cancellation);
            run?.SetTag("moe.training.outcome", result.Outcome.ToString());
            run?.SetTag("moe.training.end_step", result.Step);
            return result;
        }
        catch (CollectiveException e)
        {
            throw new RankFailureException(Step + 1, e);
        }
    }

    private TrainingResult RunSteps(IProgress<TrainingEvent>? progress, CancellationToken cancellation)
    {
        foreach (var skipped in SkippedCheckpoints) progress?.Report(skipped);
        progress?.Report(new RunStarted(Step, Training.Steps, TokensSeen, _resumedFrom is not null, _resumedFrom));
        EvaluationCompleted? lastEvaluation = null;
        TrainingOutcome outcome;
        while (true)
        {
            if (Step >= Training.Steps) { outcome = TrainingOutcome.Completed; break; }
            var cancelled = cancellation.IsCancellationRequested;
            if (_parallel is not null) cancelled = _parallel.AnyRank(cancelled);   // all ranks stop at the same step
            if (cancelled) { outcome = TrainingOutcome.Cancelled; break; }
            if (_job.StopAfterStep is { } stop && Step >= stop) { outcome = TrainingOutcome.Stopped; break; }

            var stepSpan = TrainingTelemetry.StartStep();
            var step = TrainStep();
            TrainingTelemetry.EndStep(stepSpan, step.Step, step.Loss);
            Record(step);
            _store.Fence?.Check();   // a stale attempt stops before it writes anything more into the run directory
            _metrics?.Write(step);
            progress?.Report(step);

            var every = Training.Evaluation.Every;
            if (every > 0 && (Step % every == 0 || Step == Training.Steps))
            {
                lastEvaluation = Evaluate();
                _metrics?.Write(lastEvaluation);
                progress?.Report(lastEvaluation);
            }
            if (Training.Checkpoint.Every > 0 && Step % Training.Checkpoint.Every == 0) SaveCheckpoint(progress);
        }
        var directory = _savedStep == Step ? _store.DirectoryFor(Step) : SaveCheckpoint(progress);
        return new TrainingResult(outcome, Step, TokensSeen, directory, lastEvaluation);
    }

    /// <summary>One optimizer step over training.batch_size sequences, in training.micro_batches passes.</summary>
    public StepCompleted TrainStep()
    {
        var clock = Stopwatch.StartNew();
        var (model, optimizer) = (_state.Model, _state.Optimizer);
        var (passes, rows, t) = (Training.MicroBatches, Training.MicroBatchSize, Training.ContextLength);
        model.Train();
        var lr = _schedule.At(Step);
        optimizer.SetLearningRate(lr);
        optimizer.ZeroGrad();

        var ranks = _parallel?.WorldSize ?? 1;
        double loss = 0, languageModelLoss = 0, auxLoss = 0;
        var hasAux = false;
        for (var pass = 0; pass < passes; pass++)
        {
            using var scope = DisposeScope.Begin();
            var (inputs, targets) = TokenBatch.Split(_job.Data.Train.NextBatch(rows), rows, t);   // (b, T) each
            if (_parallel is not null) (inputs, targets) = TokenBatch.RowsOfRank(inputs, targets, _parallel.Rank, ranks);   // (b / P, T)
            ModelOutput output;
            using (MixedPrecision())
                output = model.Forward(inputs, targets);
            // Mean over equal micro-batches (and ranks) of their means = the mean over the whole batch.
            (output.Loss! / (passes * ranks)).Backward();
            loss += output.Loss!.Item() / passes;
            languageModelLoss += output.LanguageModelLoss!.Item() / passes;
            if (output.AuxLoss is { } aux)
            {
                auxLoss += aux.Item() / passes;
                hasAux = true;
            }
        }
        // Clipping off still measures the norm: an infinite threshold scales by min(1, inf) = 1.
        var clip = Training.ClipNorm > 0 ? Training.ClipNorm : double.PositiveInfinity;
        double gradNorm;
        if (_parallel is null)
        {
            gradNorm = GradientClipping.ClipGradNorm(optimizer.Parameters, clip);
        }
        else
        {
            _parallel.SynchronizeGradients(model);
            gradNorm = _parallel.ClipGradients(model, clip);
            var means = _parallel.Sum([loss, languageModelLoss, auxLoss]);
            (loss, languageModelLoss, auxLoss) = (means[0] / ranks, means[1] / ranks, means[2] / ranks);
        }
        optimizer.Step();
        _parallel?.SynchronizeRoutingLoad(model);
        var routing = model.UpdateBalancingBiases(Training.ResolvedBalancingBiasRate);
        if (_parallel is not null) routing = _parallel.GatherHeadMetrics(routing);
        var communication = _parallel?.GatherCommunication();

        _state.Step++;
        _state.TokensSeen += Training.TokensPerStep;
        var seconds = clock.Elapsed.TotalSeconds;
        return new StepCompleted(Step, loss, languageModelLoss, hasAux ? auxLoss : null, lr, gradNorm, TokensSeen,
            Training.TokensPerStep / seconds, seconds, routing, communication);
    }

    /// <summary>The autocast region of a forward pass under training.precision bf16_autocast; null (nothing) under float32.</summary>
    private IDisposable? MixedPrecision() =>
        Training.Precision == TrainingPrecision.Bf16Autocast ? Autocast.Enable(_job.Device, ScalarType.BFloat16) : null;

    /// <summary>The device the model trains on.</summary>
    public Device Device => _job.Device;

    /// <summary>Perplexity on the validation windows (eval.batches of them from the start, or the whole split).</summary>
    public EvaluationCompleted Evaluate()
    {
        using var span = TrainingTelemetry.Source.StartActivity("evaluation");
        span?.SetTag("moe.training.step", Step);
        var validation = _job.Data.Validation ?? throw new InvalidOperationException($"{_job.Data.Description} has no validation split to evaluate on");
        var batchSize = Training.Evaluation.BatchSize ?? Training.MicroBatchSize;
        long? windows = Training.Evaluation.Batches is { } batches ? (long)batches * batchSize : null;
        EvaluationCompleted evaluation;
        using (MixedPrecision())
            evaluation = HeldOutEvaluation.Evaluate(Model, validation, batchSize, windows, Step, _parallel);
        span?.SetTag("moe.evaluation.loss", evaluation.Loss);
        TrainingTelemetry.EvaluationLoss.Record(evaluation.Loss);
        return evaluation;
    }

    /// <summary>The step's measurements on the Orleans.MoE meter (nothing is recorded while no meter listens).</summary>
    private void Record(StepCompleted step)
    {
        TrainingTelemetry.Loss.Record(step.Loss);
        TrainingTelemetry.TokensPerSecond.Record(step.TokensPerSecond);
        TrainingTelemetry.StepTime.Record(step.Seconds);
        if (TrainingTelemetry.FlopsPerSecond.Enabled)
            TrainingTelemetry.FlopsPerSecond.Record(step.TokensPerSecond * (_flopsPerToken ??= ModelAccounting.Of(_job.Model, Training.ContextLength).TrainingFlopsPerToken));
        foreach (var layer in step.Routing)
        {
            var tags = new TagList { { "moe.layer", layer.Layer } };
            if (layer.Head is { } head) tags.Add("moe.head", head);
            TrainingTelemetry.ExpertLoadMaxOverMean.Record(layer.MaxOverMean, tags);
            TrainingTelemetry.ExpertLoadCv.Record(layer.CoefficientOfVariation, tags);
        }
    }

    /// <summary>Writes a checkpoint of the current step (keeping the newest checkpoint.keep) and returns its directory.</summary>
    public string SaveCheckpoint(IProgress<TrainingEvent>? progress = null)
    {
        using var span = TrainingTelemetry.Source.StartActivity("checkpoint.save");
        span?.SetTag("moe.training.step", Step);
        var directory = TrainerCheckpoint.Save(_store, _state, _job.Data.Train, _parallel);
        _savedStep = Step;
        var saved = new CheckpointSaved(Step, directory);
        _metrics?.Write(saved);
        progress?.Report(saved);
        return directory;
    }

    private static void CheckData(TrainingJob job, TrainingConfig training)
    {
        var data = job.Data;
        if (data.Train.ContextLength != training.ContextLength)
            throw new ArgumentException($"{data.Description}: the windows hold {data.Train.ContextLength} tokens but context_length is {training.ContextLength}; open the data with the training context length");
        var vocab = job.Model.VocabSize;
        foreach (var source in data.Validation is null ? [data.Train] : new[] { data.Train, data.Validation })
        {
            var largest = source.LargestTokenId;
            if (largest.Id >= vocab)
                throw new ArgumentException($"{largest.Source}: holds token id {largest.Id}, but the model's vocab_size is {vocab} (ids 0 to {vocab - 1}); " +
                                            $"set vocab_size to at least {largest.Id + 1} in the model file, or give data made with the model's tokenizer");
            if (source.VocabSize > vocab)
                throw new ArgumentException($"{largest.Source}: was made with a tokenizer of {source.VocabSize} tokens, but the model's vocab_size is {vocab}; " +
                                            $"set vocab_size to at least {source.VocabSize} in the model file");
        }
        if (training.Evaluation.Every > 0 && data.Validation is null)
            throw new ArgumentException($"{data.Description}: eval.every is {training.Evaluation.Every} but there is no validation split; give validation data or set eval.every to 0");
    }

    /// <summary>A multi-process run needs batches that split evenly over its ranks.</summary>
    private static void CheckParallel(ParallelContext? parallel, TrainingConfig training)
    {
        if (parallel is null) return;
        var p = parallel.WorldSize;
        if (training.MicroBatchSize % p != 0)
            throw new ArgumentException($"batch_size / micro_batches = {training.MicroBatchSize} sequences per pass cannot be split over {p} ranks; make it a multiple of {p}");
    }

    public void Dispose()
    {
        _metrics?.Dispose();
        _state.Dispose();
    }
}
