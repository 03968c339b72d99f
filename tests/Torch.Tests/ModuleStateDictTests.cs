using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>A module's state saved to safetensors and loaded into another instance, and the errors of a state that does not fit.</summary>
public class ModuleStateDictTests
{
    /// <summary>
    /// token ids (N) -> embedding (N, 4) -> linear (N, 3); the modules sit in a ModuleList, so names are
    /// hierarchical ("layers.0.weight"). It also holds a persistent buffer and a non-persistent one.
    /// </summary>
    private sealed class TinyModel : Module
    {
        public TinyModel(ulong seed, long outFeatures = 3)
        {
            using var g = new Generator(seed);
            Layers = RegisterModule("layers", new ModuleList<Module>([new Embedding(10, 4, g), new Linear(4, outFeatures, generator: g)]));
            Scale = RegisterBuffer("scale", Tensor.Full([3], seed));
            RegisterBuffer("scratch", Tensor.Zeros([2]), persistent: false);
        }

        public ModuleList<Module> Layers { get; }

        public Tensor Scale { get; }

        public Tensor Forward(Tensor ids)
        {
            var x = ((Embedding)Layers[0]).Forward(ids); // (N, 4)
            return ((Linear)Layers[1]).Forward(x);       // (N, 3)
        }
    }

    [Fact]
    public void TheStateDictNamesParametersAndPersistentBuffersHierarchically()
    {
        using var model = new TinyModel(1);

        Assert.Equal(["layers.0.weight", "layers.1.weight", "layers.1.bias", "scale"], model.StateDict().Keys);
        Assert.Equal([10L, 4L], model.StateDict()["layers.0.weight"].Shape);
        Assert.Equal([3L, 4L], model.StateDict()["layers.1.weight"].Shape);
    }

    [Fact]
    public void AStateSavedToSafeTensorsLoadsIntoAFreshModelAndGivesTheSameOutputs()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        using var source = new TinyModel(1);
        using var target = new TinyModel(2);
        var ids = Tensor.FromArray(new long[] { 0, 3, 9, 3 });
        Assert.False(source.Forward(ids).Equal(target.Forward(ids)), "differently seeded models must differ before loading");
        var path = dir.File("tiny.safetensors");

        SafeTensors.Save(path, source.StateDict(), new Dictionary<string, string> { ["model"] = "TinyModel" });
        var (state, metadata) = SafeTensors.Load(path);
        try
        {
            target.LoadStateDict(state);
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }

        Assert.Equal("TinyModel", metadata["model"]);
        foreach (var (name, tensor) in source.StateDict())
            Assert.True(tensor.Equal(target.StateDict()[name]), $"{name} differs after loading");
        Assert.True(source.Forward(ids).Equal(target.Forward(ids)));
        // Loading copies values into the existing parameters: they stay trainable leaves.
        Assert.All(target.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void AStateThatDoesNotFitListsEveryProblemAndChangesNothing()
    {
        using var scope = DisposeScope.Begin();
        using var model = new TinyModel(1);
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var state = new Dictionary<string, Tensor>
        {
            ["layers.0.weight"] = Tensor.Zeros([10, 4]),  // fits: must still not be copied
            ["layers.1.weight"] = Tensor.Zeros([5, 4]),   // wrong shape
            // "layers.1.bias" missing
            ["scale"] = Tensor.Zeros([3]),
            ["layers.2.weight"] = Tensor.Zeros([1]),      // unexpected
        };

        var e = Assert.Throws<InvalidDataException>(() => model.LoadStateDict(state));

        Assert.Contains("TinyModel", e.Message);
        Assert.Contains("missing: layers.1.bias", e.Message);
        Assert.Contains("unexpected: layers.2.weight", e.Message);
        Assert.Contains("shape mismatch: layers.1.weight is [3, 4] in the model but [5, 4] in the state", e.Message);
        foreach (var (name, tensor) in model.StateDict())
            Assert.True(before[name].Equal(tensor), $"{name} was changed by a load that failed");
    }

    [Fact]
    public void ANonStrictLoadIgnoresMissingAndUnexpectedNamesButNotWrongShapes()
    {
        using var scope = DisposeScope.Begin();
        using var model = new TinyModel(1);
        var biasBefore = model.StateDict()["layers.1.bias"].Clone();

        model.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["layers.1.weight"] = Tensor.Full([3, 4], 0.5),
            ["extra"] = Tensor.Zeros([1]),
        }, strict: false);

        Assert.Equal(Enumerable.Repeat(0.5f, 12), model.StateDict()["layers.1.weight"].ToArray<float>());
        Assert.True(biasBefore.Equal(model.StateDict()["layers.1.bias"]));

        var e = Assert.Throws<InvalidDataException>(() => model.LoadStateDict(
            new Dictionary<string, Tensor> { ["scale"] = Tensor.Zeros([4]) }, strict: false));
        Assert.Contains("shape mismatch: scale", e.Message);
        Assert.DoesNotContain("missing", e.Message);
    }
}
