using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

/// <summary>
/// What the trainer does to a run directory beyond training: it resumes past a damaged checkpoint
/// (moving it aside, never deleting it), removes what a killed checkpoint write left, and starts only
/// in a directory that is new, empty or holds a run.
/// </summary>
[Collection(TrainerCollection.Name)]
public sealed class RunDirectorySafetyTests : IDisposable
{
    private readonly TrainingSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string Checkpoints(string run) => Path.Combine(_sandbox.RunDirectory(run), "checkpoints");

    private static void Damage(string file)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(file, bytes);
    }

    [Fact]
    public void ResumeSkipsADamagedNewestCheckpointMovesItAsideAndContinuesExactly()
    {
        var training = TrainingSandbox.Config(steps: 6, checkpointEvery: 2);
        var (_, straight) = _sandbox.Run(TinyModels.Moe(), training, "straight");
        var (_, first) = _sandbox.Run(TinyModels.Moe(), training, "run", stopAfter: 4);
        var damagedFile = Path.Combine(Checkpoints("run"), "step-00000004", "model.safetensors");
        Damage(damagedFile);
        var damagedBefore = DirectoryTree.Hash(Path.Combine(Checkpoints("run"), "step-00000004"));

        var (result, second) = _sandbox.Run(TinyModels.Moe(), training, "run", resume: true);

        var skipped = Assert.IsType<CheckpointSkipped>(second.Events[0]);
        Assert.Equal(4, skipped.Step);
        Assert.Equal(2, skipped.ResumedStep);
        Assert.StartsWith($"{damagedFile}: content hash ", skipped.Problem);
        Assert.Contains("does not match the manifest", skipped.Problem);
        var movedTo = Path.Combine(Checkpoints("run"), "step-00000004.damaged");
        Assert.Equal(movedTo, skipped.MovedTo);
        Assert.Equal(damagedBefore, DirectoryTree.Hash(movedTo));   // kept as it was, for inspection
        var started = Assert.IsType<RunStarted>(second.Events[1]);
        Assert.Equal(2, started.Step);

        // Steps 3 and 4 are trained again, exactly as the first time; the run ends as one that never stopped.
        Assert.Equal(straight.Losses, first.Losses.Take(2).Concat(second.Losses));
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal([4L, 6L], new CheckpointStore(Checkpoints("run")).Steps().TakeLast(2));

        // A second damaged checkpoint of the same step gets a name of its own.
        var store = new CheckpointStore(Checkpoints("run"));
        Assert.Equal(movedTo + "-2", store.MoveAside(4));
    }

    [Fact]
    public void WhenNoCheckpointVerifiesTheNewestProblemIsReportedAndNothingIsMoved()
    {
        var training = TrainingSandbox.Config(steps: 6, checkpointEvery: 2);
        _sandbox.Run(TinyModels.Dense(), training, "run", stopAfter: 4);
        Damage(Path.Combine(Checkpoints("run"), "step-00000002", "optimizer.safetensors"));
        var newest = Path.Combine(Checkpoints("run"), "step-00000004", "model.safetensors");
        Damage(newest);
        var before = DirectoryTree.Hash(_sandbox.RunDirectory("run"));

        var e = Assert.Throws<CheckpointCorruptException>(() => _sandbox.Run(TinyModels.Dense(), training, "run", resume: true));
        Assert.Equal(newest, e.CheckpointPath);
        Assert.Equal(before, DirectoryTree.Hash(_sandbox.RunDirectory("run")));
    }

    [Fact]
    public void TheConfigurationsForResumingComeFromTheNewestCheckpointThatVerifies()
    {
        var training = TrainingSandbox.Config(steps: 6, checkpointEvery: 2);
        _sandbox.Run(TinyModels.Dense(), training, "run", stopAfter: 4);
        File.WriteAllText(Path.Combine(Checkpoints("run"), "step-00000004", CheckpointStore.ManifestFile), "{ cut short");
        var before = DirectoryTree.Hash(_sandbox.RunDirectory("run"));

        var (model, resolved) = Trainer.ConfigsOfLatestCheckpoint(_sandbox.RunDirectory("run"));
        Assert.Equal(TinyModels.Dense().VocabSize, model.VocabSize);
        Assert.Equal(6, resolved.Steps);
        Assert.Equal(before, DirectoryTree.Hash(_sandbox.RunDirectory("run")));   // reading moves nothing
    }

    [Fact]
    public void TheTemporaryDirectoriesOfAKilledCheckpointWriteAreRemovedOnTheNextStart()
    {
        var training = TrainingSandbox.Config(steps: 4, checkpointEvery: 2);
        _sandbox.Run(TinyModels.Dense(), training, "run", stopAfter: 2);
        var stale = Directory.CreateDirectory(Path.Combine(Checkpoints("run"), ".step-00000004.0123456789abcdef.tmp")).FullName;
        File.WriteAllText(Path.Combine(stale, "model.safetensors"), "half written");
        var previous = Directory.CreateDirectory(Path.Combine(Checkpoints("run"), ".step-00000002.0123456789abcdef.old")).FullName;   // may be the only copy: kept
        var unrelated = Directory.CreateDirectory(Path.Combine(Checkpoints("run"), ".notes.tmp")).FullName;

        _sandbox.Run(TinyModels.Dense(), training, "run", resume: true);
        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(previous));
        Assert.True(Directory.Exists(unrelated));

        // A run killed while writing its first checkpoint has none to resume from: starting it again also cleans up.
        OutputDirectory.Claim(_sandbox.RunDirectory("fresh"), TrainingJob.RunDirectoryKind).Open();
        File.WriteAllText(Path.Combine(_sandbox.RunDirectory("fresh"), MetricsLog.FileName), "");
        var first = Directory.CreateDirectory(Path.Combine(Checkpoints("fresh"), ".step-00000002.00000000000000000000000000000000.tmp")).FullName;
        _sandbox.Run(TinyModels.Dense(), training, "fresh");
        Assert.False(Directory.Exists(first));
    }

    [Fact]
    public void ARunStartsOnlyInANewEmptyOrRunDirectoryAndNeverBesideItsData()
    {
        var training = TrainingSandbox.Config(steps: 3);
        var documents = Directory.CreateDirectory(_sandbox.RunDirectory("documents")).FullName;
        File.WriteAllText(Path.Combine(documents, "thesis.tex"), "years of work");
        var before = DirectoryTree.Hash(_sandbox.Root);
        var e = Assert.Throws<OutputDirectoryException>(() => _sandbox.Run(TinyModels.Dense(), training, "documents"));
        Assert.Equal($"{documents}: is not empty and was not written as a training run (moe train) (it holds thesis.tex); choose a new or empty directory", e.Message);

        using (var data = _sandbox.OpenData(training))
        {
            var dataDirectory = Path.GetDirectoryName(_sandbox.TrainFile)!;
            var job = _sandbox.Job(TinyModels.Dense(), training, data, "unused") with { RunDirectory = dataDirectory };
            Assert.Contains($"contains the input {_sandbox.TrainFile}", Assert.Throws<OutputDirectoryException>(() => Trainer.Create(job)).Message);
        }
        Assert.Equal(before, DirectoryTree.Hash(_sandbox.Root));

        var empty = Directory.CreateDirectory(_sandbox.RunDirectory("empty")).FullName;
        _sandbox.Run(TinyModels.Dense(), training, "empty");
        Assert.Equal(TrainingJob.RunDirectoryKind.Name, OutputDirectory.KindOf(empty)!.Name);
    }

    [Fact]
    public void ARunDirectoryFromBeforeMarkersResumesAndIsMarked()
    {
        var training = TrainingSandbox.Config(steps: 4);
        _sandbox.Run(TinyModels.Dense(), training, "old", stopAfter: 2);
        File.Delete(Path.Combine(_sandbox.RunDirectory("old"), OutputDirectory.MarkerFile));
        var (result, _) = _sandbox.Run(TinyModels.Dense(), training, "old", resume: true);
        Assert.Equal(4, result.Step);
        Assert.Equal(TrainingJob.RunDirectoryKind.Name, OutputDirectory.KindOf(_sandbox.RunDirectory("old"))!.Name);
    }
}
