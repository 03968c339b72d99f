using System.Text.RegularExpressions;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// A fine-tune of two ranks on real silo processes, one of whose silos is killed (SIGKILL) mid-way:
/// the surviving rank stops within its collective timeout, and the group restarts as a whole from the
/// last checkpoint, counting one failure, at the same world size on a spare silo. (The elastic
/// restart at a smaller world size is tested on an in-process cluster, in RankGroupTests.)
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed partial class RankFaultTests(RankFaultTests.Undisturbed undisturbed) : IClassFixture<RankFaultTests.Undisturbed>, IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    private const string HighMemory = "class=high-memory,devices=1,price=2.28";
    private const string LowCost = "class=low-cost,devices=2,price=0.35";
    private const int CheckpointEvery = 20;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-rank-fault-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>The experiment: a fine-tune of 2 ranks (expert parallel) long enough to be hit mid-training, checkpointing every 20 steps.</summary>
    private static string Experiment(string corpus) =>
        TestExperiments.Tiny(corpus, """ "cluster": { "fine_tune_ranks": 2, "collective_timeout_seconds": 10 },""",
                submodelSteps: 6, fineTuneSteps: 400, stopAtBaseline: false)
            .Replace("\"checkpoint\": { \"every\": 2, \"keep\": 1 }", $"\"checkpoint\": {{ \"every\": {CheckpointEvery}, \"keep\": 2 }}");

    /// <summary>The same experiment undisturbed on real processes (two high-memory silos, so P = 2): the reference of the disturbed runs.</summary>
    public sealed class Undisturbed : IAsyncLifetime
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-rank-calm-" + Guid.NewGuid().ToString("N"));

        public string Corpus { get; private set; } = "";

        public DisCoState State { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Corpus = TestExperiments.WriteCorpus(Path.Combine(_root, "data"));
            await using var cluster = await ProcessCluster.StartAsync(_root, null, ("hm-a", HighMemory), ("hm-b", HighMemory), ("small", LowCost));
            var coordinator = cluster.Submit("calm", Experiment(Corpus));
            var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the undisturbed run", RunTimeout);
            Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
            State = DisCoState.Open(new DisCoLayout(cluster.ExperimentDirectory("calm")).State);
        }

        public Task DisposeAsync()
        {
            Directory.Delete(_root, recursive: true);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task ARankKilledWithASpareSiloRestartsItsGroupAtTheSameWorldSizeWithTheUndisturbedMetrics()
    {
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("hm-a", HighMemory), ("hm-b", HighMemory), ("hm-spare", HighMemory), ("small", LowCost));
        var (status, directory, resumedAt) = await KillRankOneMidFineTuneAsync(cluster);

        var ranks = RanksOfAttempt(directory, 2);
        Assert.Equal(2, ranks.Count);   // the same world size, on the silos left
        AssertFineTuneRestartedOnce(status);
        Assert.Equal((long)undisturbed.State.Get("fine_tune")["steps"]!, (long)DisCoState.Open(new DisCoLayout(directory).State).Get("fine_tune")["steps"]!);
        // A resumed P = 2 run is the same run: its losses are the undisturbed run's, bit for bit.
        var disturbed = DisCoState.Open(new DisCoLayout(directory).State);
        Assert.Equal((double)undisturbed.State.Get("fine_tune")["final_loss"]!, (double)disturbed.Get("fine_tune")["final_loss"]!);
        Assert.Equal((double?)undisturbed.State.Get("fine_tune")["held_out_loss"], (double?)disturbed.Get("fine_tune")["held_out_loss"]);
        Assert.Equal((double)undisturbed.State.Get("evaluate")["disco"]!["held_out_loss"]!, (double)disturbed.Get("evaluate")["disco"]!["held_out_loss"]!);
        Assert.True(resumedAt >= CheckpointEvery, $"the group resumed at step {resumedAt}, not from a checkpoint");
    }

    /// <summary>
    /// Runs the experiment until its fine-tune has checkpointed, kills the silo of rank 1, and waits
    /// for the end. Returns the end, the experiment directory, and the step the new group resumed at
    /// (at least the newest checkpoint when the silo was killed: no more is lost than since then).
    /// </summary>
    private async Task<(ExperimentStatus Status, string Directory, long ResumedAt)> KillRankOneMidFineTuneAsync(ProcessCluster cluster)
    {
        var coordinator = cluster.Submit("ranks", Experiment(undisturbed.Corpus));
        var directory = cluster.ExperimentDirectory("ranks");
        var checkpoints = TrainingJob.CheckpointDirectoryOf(new DisCoLayout(directory).FineTune);
        var running = await ProcessCluster.UntilAsync(coordinator, s => s.Jobs.Any(j => j.Name == DisCoPhases.FineTune && j.Status == JobStatus.Running)
            && NewestCheckpoint(checkpoints) >= CheckpointEvery, "the fine-tune mid-training", RunTimeout);
        var newest = NewestCheckpoint(checkpoints);
        // A group's silos, in rank order: "rank0+rank1".
        var victim = running.Jobs.Single(j => j.Name == DisCoPhases.FineTune).Silo!.Split('+')[1];
        cluster.Kill(victim);

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        var resumedAt = ResumedAt(Path.Combine(directory, "jobs", $"{DisCoPhases.FineTune}-a2-r0", "attempt-1", "worker.log"));
        Assert.True(resumedAt >= newest, $"the group resumed at step {resumedAt}, before the checkpoint of step {newest} that existed when rank 1 was killed");
        Assert.DoesNotContain(await cluster.Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync(), s => s.Name == victim);
        return (status, directory, resumedAt);
    }

    private static void AssertFineTuneRestartedOnce(ExperimentStatus status)
    {
        var fineTune = status.Jobs.Single(j => j.Name == DisCoPhases.FineTune);
        Assert.Equal((2, 1), (fineTune.Attempt, fineTune.Failures));
    }

    /// <summary>The ranks a group attempt started, from their job directories.</summary>
    private static List<string> RanksOfAttempt(string directory, int attempt) =>
        Directory.EnumerateDirectories(Path.Combine(directory, "jobs"), $"{DisCoPhases.FineTune}-a{attempt}-r*").Select(Path.GetFileName).ToList()!;

    private static long NewestCheckpoint(string checkpoints) =>
        Directory.Exists(checkpoints)
            ? Directory.EnumerateDirectories(checkpoints, "step-*").Select(d => StepOf().Match(Path.GetFileName(d)!)).Where(m => m.Success)
                .Select(m => long.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max()
            : 0;

    /// <summary>The step a worker resumed at, from the line its log has for a resumed run.</summary>
    private static long ResumedAt(string workerLog)
    {
        var match = ResumedLine().Match(File.ReadAllText(workerLog));
        Assert.True(match.Success, $"{workerLog} does not say the run resumed");
        return long.Parse(match.Groups[1].Value);
    }

    [GeneratedRegex(@"^step-(\d+)$")]
    private static partial Regex StepOf();

    [GeneratedRegex(@"resumed at step (\d+) of")]
    private static partial Regex ResumedLine();
}
