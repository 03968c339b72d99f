using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// The trainer as ranks of one run (threads standing in for processes): the same losses as a single
/// process, and checkpoints that resume at another number of ranks.
/// </summary>
public class ParallelTrainerTests
{
    // Float32 sums in another order (split batches, summed gradients): agreement to ~1e-6 relative is expected.
    private const double Tolerance = 2e-5;

    private static double[] RunRanks(TrainingSandbox sandbox, ModelConfig model, int worldSize, ParallelMode mode, string run,
        bool resume = false, long? stopAfter = null)
    {
        var training = TrainingSandbox.Config(steps: 6, checkpointEvery: 3, evalEvery: 3);
        var losses = LocalRanks.Run(worldSize, group =>
        {
            using var context = new ParallelContext(group, mode);
            using var data = sandbox.OpenData(training);
            using var trainer = Trainer.Create(sandbox.Job(model, training, data, run, resume, stopAfter) with { Parallel = context });
            var events = new EventRecorder();
            trainer.Run(events);
            return events.Losses.ToArray();
        });
        return losses[0];
    }

    private static double[] RunSingle(TrainingSandbox sandbox, ModelConfig model, string run, bool resume = false, long? stopAfter = null) =>
        sandbox.Run(model, TrainingSandbox.Config(steps: 6, checkpointEvery: 3, evalEvery: 3), run, resume, stopAfter).Events.Losses.ToArray();

    [Theory]
    [InlineData(ParallelMode.Head, 2)]
    [InlineData(ParallelMode.Head, 4)]
    [InlineData(ParallelMode.Expert, 2)]
    [InlineData(ParallelMode.Data, 2)]
    public void RanksTrainLikeOneProcess(ParallelMode mode, int worldSize)
    {
        using var sandbox = new TrainingSandbox();
        var model = mode == ParallelMode.Head ? TinyModels.MultiHead() : TinyModels.Moe();
        var single = RunSingle(sandbox, model, "single");
        var ranks = RunRanks(sandbox, model, worldSize, mode, "ranks");
        Assert.Equal(6, ranks.Length);
        for (var i = 0; i < single.Length; i++) Assert.True(Math.Abs(single[i] - ranks[i]) < Tolerance, $"step {i + 1}: {single[i]} vs {ranks[i]}");

        var metrics = MetricsLog.Read(Path.Combine(sandbox.RunDirectory("ranks"), MetricsLog.FileName));
        var evals = metrics.Where(m => (string)m["event"]! == "eval").ToList();
        var singleEvals = MetricsLog.Read(Path.Combine(sandbox.RunDirectory("single"), MetricsLog.FileName)).Where(m => (string)m["event"]! == "eval").ToList();
        Assert.Equal(singleEvals.Count, evals.Count);
        for (var i = 0; i < evals.Count; i++) Assert.Equal((double)singleEvals[i]["loss"]!, (double)evals[i]["loss"]!, 4);
        // Every rank's traffic is in the metrics, and head parallelism reports every head's load.
        var first = metrics.First(m => (string)m["event"]! == "train");
        Assert.Equal(Enumerable.Range(0, worldSize), first["communication"]!.AsArray().Select(c => (int)c!["rank"]!).Distinct());
        if (mode == ParallelMode.Head) Assert.Equal([0, 1, 2, 3], first["routing"]!.AsArray().Select(r => (int)r!["head"]!));
    }

    [Fact]
    public void ACheckpointSavedAtTwoRanksResumesInOneProcess()
    {
        using var sandbox = new TrainingSandbox();
        var model = TinyModels.MultiHead();
        var reference = RunSingle(sandbox, model, "reference");
        RunRanks(sandbox, model, 2, ParallelMode.Head, "resharded", stopAfter: 3);
        var resumed = RunSingle(sandbox, model, "resharded", resume: true);
        Assert.Equal(3, resumed.Length);
        for (var i = 0; i < 3; i++) Assert.True(Math.Abs(reference[3 + i] - resumed[i]) < Tolerance, $"step {4 + i}: {reference[3 + i]} vs {resumed[i]}");
    }

    [Fact]
    public void ACheckpointSavedInOneProcessResumesAtFourRanks()
    {
        using var sandbox = new TrainingSandbox();
        var model = TinyModels.MultiHead();
        var reference = RunSingle(sandbox, model, "reference");
        RunSingle(sandbox, model, "resharded", stopAfter: 3);
        var resumed = RunRanks(sandbox, model, 4, ParallelMode.Head, "resharded", resume: true);
        Assert.Equal(3, resumed.Length);
        for (var i = 0; i < 3; i++) Assert.True(Math.Abs(reference[3 + i] - resumed[i]) < Tolerance, $"step {4 + i}: {reference[3 + i]} vs {resumed[i]}");
    }

    [Fact]
    public void ABatchThatDoesNotSplitOverTheRanksIsRefused()
    {
        using var sandbox = new TrainingSandbox();
        var error = Assert.Throws<AggregateException>(() => LocalRanks.Run(3, group =>
        {
            var training = TrainingSandbox.Config(batchSize: 4);
            using var context = new ParallelContext(group, ParallelMode.Data);
            using var data = sandbox.OpenData(training);
            using var trainer = Trainer.Create(sandbox.Job(TinyModels.Dense(), training, data, "odd") with { Parallel = context });
            return 0;
        }));
        Assert.Contains("cannot be split over 3 ranks", error.InnerExceptions[0].Message);
    }
}
