using System.Globalization;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Model.Tests;

/// <summary>
/// A reference fixture written by tests/fixtures/make_model_fixtures.py: tensors named param.*,
/// input.*, expected.*, grad.* and bias_after.*, with the model configuration in the metadata.
/// </summary>
internal sealed class Fixture : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private Fixture(Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        _tensors = tensors;
        Config = ModelConfigLoader.Parse(metadata["config"], "fixture config");
        BiasRate = double.Parse(metadata["bias_rate"], CultureInfo.InvariantCulture);
    }

    public static Fixture Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".safetensors");
        var (tensors, metadata) = SafeTensors.Load(path);
        return new Fixture(tensors, metadata);
    }

    public ModelConfig Config { get; }

    public double BiasRate { get; }

    public Tensor this[string name] =>
        _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"the fixture has no tensor '{name}'");

    public bool Has(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensors under a prefix, with the prefix removed from their names.</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix) =>
        _tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
