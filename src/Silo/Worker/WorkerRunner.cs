using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Telemetry;
using Orleans.MoE.Silo.Telemetry;
using Orleans.MoE.Torch.Distributed;
using System.Runtime.InteropServices;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Silo.Worker;

/// <summary>
/// The body of <c>moe worker --job FILE</c>: runs one phase of one experiment in this process, the
/// same library call whichever silo runs it, and speaks <see cref="WorkerProtocol"/> on stdout.
/// SIGINT or SIGTERM stop it after a checkpoint (exit 130); the end of stdin (its silo is gone)
/// ends it at once, so that it cannot write beside the attempt that replaces it.
/// </summary>
public static class WorkerRunner
{
    public static int Run(string jobPath, TextWriter stdout, TextWriter stderr)
    {
        var job = WorkerJobFile.Read(jobPath);
        using var cancellation = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            cancellation.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        ExitWhenSupervisorLeaves();

        var layout = new DisCoLayout(job.ExperimentDirectory);
        var config = DisCoExperimentLoader.Parse(File.ReadAllText(layout.ResolvedConfig), layout.ResolvedConfig);
        if (job.Threads > 0) TorchRuntime.Threads = job.Threads;
        // Disposed last (declared first): the spans below are written before the process ends.
        using var telemetry = MoeTelemetry.StartForWorker(artifactRoot: "");
        using var span = StartSpan(job);
        var device = Device.Parse(job.Device).EnsureAvailable();
        lock (stdout) stdout.WriteLine(WorkerProtocol.Started());
        var rank = RankOf(job);
        ParallelContext? parallel;
        using (var rendezvous = rank is null ? null : WorkerTelemetry.Source.StartActivity("rendezvous"))
        {
            rendezvous?.SetTag("moe.rank", rank?.Rank);
            rendezvous?.SetTag("moe.world_size", rank?.WorldSize);
            parallel = rank?.Join(config.Model, device);
        }
        using var joined = parallel;
        try
        {
            // A rank's own attempt is always 1 (each group attempt has new ranks): its group's attempt fences the checkpoints.
            var attempt = job.Arguments.TryGetValue(WorkerArguments.GroupAttempt, out var group) ? long.Parse(group, CultureInfo.InvariantCulture) : job.Attempt;
            var context = new DisCoPhaseContext(config, layout, DisCoState.Open(layout.State), stdout, new ProgressLines(stdout), cancellation.Token, parallel, attempt, device);
            var result = DisCoPhases.Run(job.Phase, context);
            // Ended (and written) before the silo hears of the success: the experiment may end right after.
            span?.SetStatus(ActivityStatusCode.Ok);
            span?.Stop();
            lock (stdout) stdout.WriteLine(WorkerProtocol.Succeeded(result));
            return 0;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            span?.SetTag("moe.job.outcome", "interrupted");
            stderr.WriteLine($"{job.JobKey} attempt {job.Attempt}: stopped on request after its checkpoint");
            return WorkerProtocol.Interrupted;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            parallel?.Group.Dispose();
        }
    }

    /// <summary>The job's span in this process, under its attempt's span (the job file's traceparent), written into the experiment directory.</summary>
    private static Activity? StartSpan(WorkerJobFile job)
    {
        if (!ActivityContext.TryParse(job.TraceParent, null, isRemote: true, out var attempt)) return null;
        ExperimentTraces.Register(attempt.TraceId.ToHexString(), job.ExperimentDirectory);
        var span = WorkerTelemetry.Source.StartActivity($"worker {job.Phase}", ActivityKind.Internal, attempt);
        span?.SetTag("moe.job.phase", job.Phase);
        span?.SetTag("moe.job.attempt", job.Attempt);
        span?.SetTag("moe.threads", job.Threads);
        span?.SetTag("moe.process_id", Environment.ProcessId);
        return span;
    }

    /// <summary>The rank of a job that is one of several (its arguments name it), or null for a job of its own.</summary>
    private static ParallelRank? RankOf(WorkerJobFile job)
    {
        if (!job.Arguments.TryGetValue(WorkerArguments.WorldSize, out var worldSize) || int.Parse(worldSize, CultureInfo.InvariantCulture) <= 1) return null;
        return new ParallelRank(
            job.Arguments[WorkerArguments.Parallel],
            int.Parse(worldSize, CultureInfo.InvariantCulture),
            int.Parse(job.Arguments[WorkerArguments.Rank], CultureInfo.InvariantCulture),
            RendezvousAddress.Parse(job.Arguments[WorkerArguments.Rendezvous]),
            TimeSpan.FromSeconds(double.Parse(job.Arguments[WorkerArguments.TimeoutSeconds], CultureInfo.InvariantCulture)));
    }

    /// <summary>The supervisor holds this process's stdin open; its end means the silo died.</summary>
    private static void ExitWhenSupervisorLeaves()
    {
        var watcher = new Thread(() =>
        {
            var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            try
            {
                while (stdin.Read(buffer, 0, buffer.Length) > 0) { }
            }
            catch (IOException)
            {
            }
            Environment.Exit(WorkerProtocol.Orphaned);
        }) { IsBackground = true, Name = "supervisor watch" };
        watcher.Start();
    }

    /// <summary>Training steps as protocol lines, at most a few per second.</summary>
    private sealed class ProgressLines(TextWriter stdout) : IProgress<TrainingEvent>
    {
        private readonly Stopwatch _since = Stopwatch.StartNew();
        private long _total;
        private double _seconds;

        public void Report(TrainingEvent value)
        {
            switch (value)
            {
                case RunStarted s:
                    _total = s.TotalSteps;
                    // Into the attempt's worker.log: which steps a retried attempt did not have to train again.
                    if (s.Resumed) lock (stdout) stdout.WriteLine($"resumed at step {s.Step} of {s.TotalSteps} from {s.ResumedFrom}");
                    break;
                case CheckpointSkipped s:
                    lock (stdout) stdout.WriteLine(s.Warning);   // into the attempt's worker.log
                    break;
                case StepCompleted s:
                    _seconds += s.Seconds;
                    if (_since.ElapsedMilliseconds < 250 && s.Step != _total) return;
                    _since.Restart();
                    lock (stdout) stdout.WriteLine(WorkerProtocol.Progress(s.Step, _total, s.Loss, s.TokensPerSecond, _seconds));
                    break;
            }
        }
    }
}
