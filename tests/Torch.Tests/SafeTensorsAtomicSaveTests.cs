using System.Diagnostics.CodeAnalysis;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>A save that fails leaves the previous file exactly as it was and no temporary file beside it.</summary>
public class SafeTensorsAtomicSaveTests
{
    [Fact]
    public void ASaveFailingOnADisposedTensorLeavesTheTargetIntact()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        var path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([3]) });
        var before = File.ReadAllBytes(path);

        var disposed = Tensor.Zeros([2]);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.Full([1000], 5.0),
            ["z"] = disposed,
        }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], dir.FileNames());
    }

    [Fact]
    public void ASaveFailingMidwayThroughTheDataLeavesTheTargetIntactAndNoTemporaryFile()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        var path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([3]) });
        var before = File.ReadAllBytes(path);

        // "z" is alive while the header is built and is disposed once the data of "a" has been
        // written, so the failure happens with a partly written temporary file on disk.
        var tensors = new DisposingOnSecondLookup(new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.Full([100_000], 5.0),
            ["z"] = Tensor.Zeros([2]),
        }, victim: "z", dir);
        Assert.Throws<ObjectDisposedException>(() => SafeTensors.Save(path, tensors));
        // When the write failed, a temporary file stood beside the target.
        Assert.Contains(tensors.FilesWhenFailing, name => name != "model.safetensors" && name.EndsWith(".tmp", StringComparison.Ordinal));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], dir.FileNames());
    }

    [Fact]
    public void ASaveFailingWhenThereIsNoPreviousFileLeavesNothing()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        var tensors = new DisposingOnSecondLookup(new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.Full([10], 1.0),
            ["z"] = Tensor.Zeros([2]),
        }, victim: "z", dir);

        Assert.Throws<ObjectDisposedException>(() => SafeTensors.Save(dir.File("new.safetensors"), tensors));
        Assert.NotEmpty(tensors.FilesWhenFailing);

        Assert.Empty(dir.FileNames());
    }

    [Fact]
    public void ASuccessfulSaveReplacesTheTargetAndLeavesNoTemporaryFile()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        var path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([3]) });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Full([3], 2.0) });

        var (loaded, _) = SafeTensors.Load(path);
        using var w = loaded["w"];
        Assert.Equal([2f, 2f, 2f], w.ToArray<float>());
        Assert.Equal(["model.safetensors"], dir.FileNames());
    }

    /// <summary>
    /// A dictionary that disposes one tensor right after handing it out for the second time. The
    /// writer looks each tensor up once to lay out the header and once to write its data, so the
    /// second lookup happens with the temporary file open and partly written.
    /// </summary>
    private sealed class DisposingOnSecondLookup(Dictionary<string, Tensor> inner, string victim, TemporaryDirectory dir)
        : IReadOnlyDictionary<string, Tensor>
    {
        private int _victimLookups;

        /// <summary>The directory's files at the moment the victim was disposed.</summary>
        public string[] FilesWhenFailing { get; private set; } = [];

        public Tensor this[string key]
        {
            get
            {
                var t = inner[key];
                if (key == victim && ++_victimLookups == 2)
                {
                    t.Dispose();
                    FilesWhenFailing = dir.FileNames();
                }
                return t;
            }
        }

        public IEnumerable<string> Keys => inner.Keys;
        public IEnumerable<Tensor> Values => inner.Values;
        public int Count => inner.Count;
        public bool ContainsKey(string key) => inner.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value)
        {
            if (!ContainsKey(key)) { value = null; return false; }
            value = this[key];
            return true;
        }

        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => inner.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
