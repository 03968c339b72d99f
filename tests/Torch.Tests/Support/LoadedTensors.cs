using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Torch.Tests.Support;

/// <summary>The tensors and metadata of a safetensors file, owned together: disposing releases every tensor.</summary>
internal sealed class LoadedTensors : IDisposable
{
    private LoadedTensors(Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public static LoadedTensors Load(string path)
    {
        var (tensors, metadata) = SafeTensors.Load(path);
        return new LoadedTensors(tensors, metadata);
    }

    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public Tensor this[string name] => Tensors.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"the fixture has no tensor '{name}' (regenerate it with tests/fixtures/make_torch_fixtures.py)");

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
