using Orleans.MoE.Torch;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>
/// Creates parameters the way the paper initialises them: N(0, std) everywhere, with std / sqrt(2 n_layers)
/// for the projections that write into the residual stream. Every tensor is drawn in float32 on the CPU
/// from one seeded generator, in the order the modules ask for them, then moved to the model's dtype and
/// device: the same seed gives the same weights whatever the dtype or device.
/// </summary>
public sealed class WeightInit : IDisposable
{
    private readonly Generator _generator;
    private readonly double _std;
    private readonly double _outputStd;

    public WeightInit(ulong seed, double std, int numLayers, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        _generator = new Generator(seed);
        _std = std;
        _outputStd = std / Math.Sqrt(2.0 * numLayers);
        Dtype = dtype;
        Device = device ?? Device.Cpu;
    }

    public ScalarType Dtype { get; }

    public Device Device { get; }

    /// <summary>A weight drawn from N(0, std).</summary>
    public Parameter Normal(params long[] shape) => Draw(shape, _std);

    /// <summary>A weight whose output is added to the residual stream: N(0, std / sqrt(2 n_layers)).</summary>
    public Parameter OutputProjection(params long[] shape) => Draw(shape, _outputStd);

    /// <summary>
    /// Rows <paramref name="rows"/> of a weight drawn whole from N(0, std): the generator advances as for the
    /// whole tensor, so a model holding one part of a layer gets exactly that part of the whole model's weights.
    /// </summary>
    public Parameter Normal(long[] shape, RowSlice rows) => DrawRows(shape, _std, rows);

    /// <summary>As <see cref="Normal(long[], RowSlice)"/>, with the output-projection std.</summary>
    public Parameter OutputProjection(long[] shape, RowSlice rows) => DrawRows(shape, _outputStd, rows);

    public Parameter Ones(params long[] shape)
    {
        using var ones = Tensor.Ones(shape, Dtype, Device).DetachFromScope();
        return new Parameter(ones);
    }

    /// <summary>A zero tensor of the model's dtype and device (for buffers), owned by the caller.</summary>
    public Tensor Zeros(params long[] shape) => Tensor.Zeros(shape, Dtype, Device).DetachFromScope();

    private Parameter Draw(long[] shape, double std)
    {
        using var drawn = Tensor.Empty(shape).DetachFromScope().Normal_(0, std, _generator);
        if (Dtype == ScalarType.Float32 && Device == Device.Cpu) return new Parameter(drawn);
        using var moved = drawn.To(Dtype, Device).DetachFromScope();
        return new Parameter(moved);
    }

    private Parameter DrawRows(long[] shape, double std, RowSlice rows)
    {
        if (rows.IsWhole) return Draw(shape, std);
        using var whole = Draw(shape, std);
        using var view = whole.Narrow(0, rows.Start, rows.Count).DetachFromScope();
        using var part = view.Clone().DetachFromScope();   // its own storage, not a view of the whole
        return new Parameter(part);
    }

    public void Dispose() => _generator.Dispose();
}
