using System.Text.Json.Nodes;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Checkpoints;

namespace Orleans.MoE.Training.Tests;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-ckpt-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, Tensor>> Files(Tensor weight) =>
        new Dictionary<string, IReadOnlyDictionary<string, Tensor>>
        {
            ["model"] = new Dictionary<string, Tensor> { ["w"] = weight },
        };

    private static CheckpointManifest Manifest(long step) => new()
    {
        Step = step,
        TokensSeen = step * 100,
        DataPosition = new JsonObject { ["epoch"] = 0, ["offset"] = step * 4 },
        RngStates = { ["data"] = Convert.ToBase64String([1, 2, 3]) },
    };

    [Fact]
    public void RoundTripsTensorsAndManifest()
    {
        using var scope = DisposeScope.Begin();
        var store = new CheckpointStore(_root);
        var w = Tensor.Arange(0, 6, 1, ScalarType.Float32).View(2, 3);
        store.Save(Manifest(10), Files(w));

        var manifest = store.ReadManifest(10);
        Assert.Equal(1000, manifest.TokensSeen);
        Assert.Equal(40, (long)manifest.DataPosition!["offset"]!);
        Assert.Equal([1, 2, 3], Convert.FromBase64String(manifest.RngStates["data"]));
        Assert.True(manifest.FileHashes.ContainsKey("model.safetensors"));
        var loaded = store.LoadTensors(10, "model");
        Assert.True(loaded["w"].Equal(w));
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void KeepsOnlyTheNewestCheckpoints()
    {
        using var scope = DisposeScope.Begin();
        var store = new CheckpointStore(_root, keep: 2);
        var w = Tensor.Ones([2]);
        foreach (var step in new long[] { 1, 2, 3, 4 }) store.Save(Manifest(step), Files(w));
        Assert.Equal([3L, 4L], store.Steps());
        Assert.Equal(4, store.LatestStep);
    }

    [Fact]
    public void DetectsADamagedTensorFile()
    {
        using var scope = DisposeScope.Begin();
        var store = new CheckpointStore(_root);
        var dir = store.Save(Manifest(5), Files(Tensor.Ones([16])));
        var file = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        var error = Assert.Throws<CheckpointCorruptException>(() => store.ReadManifest(5));
        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("does not match", error.Message);
    }

    [Fact]
    public void AFailedSaveLeavesEarlierCheckpointsAndNoPartialDirectory()
    {
        using var scope = DisposeScope.Begin();
        var store = new CheckpointStore(_root);
        store.Save(Manifest(1), Files(Tensor.Ones([4])));
        var broken = Tensor.Ones([4]);
        broken.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.Save(Manifest(2), Files(broken)));
        Assert.Equal([1L], store.Steps());
        Assert.Single(Directory.EnumerateFileSystemEntries(_root));
        store.ReadManifest(1);
    }

    [Fact]
    public void AnIncompleteCheckpointIsNotListedAndIsReportedWhenAskedFor()
    {
        var store = new CheckpointStore(_root);
        Directory.CreateDirectory(store.DirectoryFor(7));
        Assert.Empty(store.Steps());
        var error = Assert.Throws<CheckpointCorruptException>(() => store.ReadManifest(7));
        Assert.Contains("incomplete", error.Message);
    }

    [Fact]
    public void AnOlderAttemptCannotCommitACheckpointOnceANewerOneClaimedTheRun()
    {
        using var scope = DisposeScope.Begin();
        var run = Path.Combine(_root, "run");
        var w = Tensor.Arange(0, 6, 1, ScalarType.Float32).View(2, 3);
        var zombie = new CheckpointStore(Path.Combine(run, "checkpoints")) { Fence = CheckpointFence.Claim(run, attempt: 1) };
        zombie.Save(Manifest(2), Files(w));

        var current = new CheckpointStore(Path.Combine(run, "checkpoints")) { Fence = CheckpointFence.Claim(run, attempt: 2) };
        var e = Assert.Throws<StaleAttemptException>(() => zombie.Save(Manifest(4), Files(w)));
        Assert.Contains("checkpoint of attempt 1 refused, attempt 2 trains here now", e.Message);
        Assert.Equal([2L], zombie.Steps());   // nothing of the refused checkpoint is left
        Assert.Empty(Directory.GetDirectories(Path.Combine(run, "checkpoints"), ".*"));

        current.Save(Manifest(4), Files(w));
        Assert.Equal([2L, 4L], current.Steps());
        Assert.Throws<StaleAttemptException>(() => CheckpointFence.Claim(run, attempt: 1));   // a stale attempt cannot start either
    }
}
