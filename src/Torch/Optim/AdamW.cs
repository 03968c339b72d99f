using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Native;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Torch.Optim;

/// <summary>
/// AdamW with decoupled weight decay, the same arithmetic as torch.optim.AdamW. One native call
/// updates every parameter. Its per-parameter state (step, first and second moments) can be read
/// and restored for checkpoints.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly OptimizerHandle _handle;
    private readonly ParameterGroup[] _groups;
    private readonly Parameter[] _parameters;
    private readonly double[] _learningRates;

    public unsafe AdamW(IReadOnlyList<ParameterGroup> groups)
    {
        if (groups.Count == 0) throw new ArgumentException("AdamW needs at least one parameter group", nameof(groups));
        _groups = groups.ToArray();
        _learningRates = _groups.Select(g => g.LearningRate).ToArray();
        _parameters = _groups.SelectMany(g => g.Parameters).ToArray();
        if (_parameters.Distinct(ReferenceEqualityComparer.Instance).Count() != _parameters.Length)
            throw new ArgumentException("a parameter appears in more than one place of the parameter groups", nameof(groups));

        var handles = _parameters.Select(p => p.Handle).ToArray();
        var groupOf = _groups.SelectMany((g, i) => g.Parameters.Select(_ => i)).ToArray();
        var hyper = _groups.SelectMany(g => new[] { g.LearningRate, g.Beta1, g.Beta2, g.Epsilon, g.WeightDecay }).ToArray();
        IntPtr h;
        fixed (IntPtr* ph = handles)
        fixed (int* pg = groupOf)
        fixed (double* hp = hyper)
        {
            TorchException.Check(NativeMethods.moe_adamw_new(ph, pg, handles.Length, hp, _groups.Length, &h));
        }
        _handle = new OptimizerHandle(h);
    }

    public IReadOnlyList<ParameterGroup> Groups => _groups;

    /// <summary>Every parameter, in group order; the index used by <see cref="GetState"/>.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    public double LearningRate(int group) => _learningRates[group];

    /// <summary>Sets the learning rate of every group (schedules call this before each step).</summary>
    public void SetLearningRate(double lr)
    {
        for (var g = 0; g < _groups.Length; g++) SetLearningRate(g, lr);
    }

    public void SetLearningRate(int group, double lr)
    {
        TorchException.Check(NativeMethods.moe_adamw_set_lr(Handle, group, lr));
        _learningRates[group] = lr;
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public void Step() => TorchException.Check(NativeMethods.moe_adamw_step(Handle));

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>Parameter i's step count and moments (null before its first step); the caller owns the tensors.</summary>
    public unsafe (long Step, Tensor? ExpAvg, Tensor? ExpAvgSq) GetState(int index)
    {
        long step;
        IntPtr m, v;
        TorchException.Check(NativeMethods.moe_adamw_get_state(Handle, index, &step, &m, &v));
        return (step, m == IntPtr.Zero ? null : new Tensor(m), v == IntPtr.Zero ? null : new Tensor(v));
    }

    /// <summary>Restores parameter i's state (copied, so the caller keeps its tensors).</summary>
    public void SetState(int index, long step, Tensor expAvg, Tensor expAvgSq)
    {
        TorchException.Check(NativeMethods.moe_adamw_set_state(Handle, index, step, expAvg.Handle, expAvgSq.Handle));
        GC.KeepAlive(expAvg);
        GC.KeepAlive(expAvgSq);
    }

    private IntPtr Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(AdamW)) : _handle.DangerousGetHandle();

    public void Dispose() => _handle.Dispose();

    /// <summary>Frees the native optimizer (and its moment tensors) even if Dispose is never called.</summary>
    private sealed class OptimizerHandle : SafeHandle
    {
        public OptimizerHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.moe_adamw_free(handle) == 0;
    }
}
