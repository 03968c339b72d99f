using System.Text;

namespace Orleans.MoE.Torch.NN;

/// <summary>
/// A building block with parameters, buffers and child modules, named hierarchically
/// ("layers.0.attn.wq") as in PyTorch. A module owns its parameters and buffers: disposing it
/// disposes them and its children.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Parameter Parameter)> _parameters = [];
    private readonly List<(string Name, Tensor Buffer, bool Persistent)> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];
    private bool _disposed;

    /// <summary>True in training mode (dropout active); see <see cref="Train"/> and <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    protected TModule RegisterModule<TModule>(string name, TModule module) where TModule : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        CheckName(name);
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a tensor that is state but not trained; persistent buffers are in the state dict.</summary>
    protected Tensor RegisterBuffer(string name, Tensor buffer, bool persistent = true)
    {
        CheckName(name);
        buffer.DetachFromScope();
        _buffers.Add((name, buffer, persistent));
        return buffer;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid member name: it must be non-empty and contain no '.'", nameof(name));
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'", nameof(name));
    }

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module and every descendant, depth first, with their qualified names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
        {
            foreach (var item in child.NamedModules(Join(prefix, name))) yield return item;
        }
    }

    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach (var (prefix, module) in NamedModules())
        {
            foreach (var (name, parameter) in module._parameters) yield return (Join(prefix, name), parameter);
        }
    }

    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool persistentOnly = false)
    {
        foreach (var (prefix, module) in NamedModules())
        {
            foreach (var (name, buffer, persistent) in module._buffers)
            {
                if (persistent || !persistentOnly) yield return (Join(prefix, name), buffer);
            }
        }
    }

    /// <summary>
    /// Parameters and persistent buffers by qualified name, in registration order. The tensors are
    /// the module's own (not copies): read or save them, do not dispose them.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, p) in NamedParameters()) state[name] = p;
        foreach (var (name, b) in NamedBuffers(persistentOnly: true)) state[name] = b;
        return state;
    }

    /// <summary>
    /// Copies values into the parameters and persistent buffers. With strict, a missing or unexpected
    /// name is an error; a shape mismatch always is. Every problem is listed, and nothing is copied
    /// unless all entries fit.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var problems = new StringBuilder();
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var source))
            {
                if (strict) problems.AppendLine($"  missing: {name}");
                continue;
            }
            var (want, have) = (target.Shape, source.Shape);
            if (!want.SequenceEqual(have))
                problems.AppendLine($"  shape mismatch: {name} is [{string.Join(", ", want)}] in the model but [{string.Join(", ", have)}] in the state");
        }
        if (strict)
        {
            foreach (var name in state.Keys.Where(k => !own.ContainsKey(k))) problems.AppendLine($"  unexpected: {name}");
        }
        if (problems.Length > 0)
            throw new InvalidDataException($"the state does not fit {GetType().Name}:{Environment.NewLine}{problems}".TrimEnd());

        using var noGrad = GradMode.NoGrad();
        foreach (var (name, target) in own)
        {
            if (state.TryGetValue(name, out var source)) target.Copy_(source);
        }
    }

    /// <summary>
    /// Moves every parameter and buffer to <paramref name="device"/> in place, as PyTorch's
    /// <c>module.to(device)</c>: the <see cref="Parameter"/> objects stay the same (an optimizer
    /// built on them keeps working) and now hold their data on the device. Gradients are dropped.
    /// </summary>
    public Module To(Device device) => MoveTo(device, dtype: null);

    /// <summary>Converts every floating-point parameter and buffer to <paramref name="dtype"/> in place.</summary>
    public Module To(ScalarType dtype) => MoveTo(device: null, dtype);

    private Module MoveTo(Device? device, ScalarType? dtype)
    {
        using var noGrad = GradMode.NoGrad();
        foreach (var (_, module) in NamedModules())
        {
            foreach (var (_, p) in module._parameters) Move(p, device, dtype);
            foreach (var (_, b, _) in module._buffers) Move(b, device, dtype);
        }
        return this;
    }

    private static void Move(Tensor tensor, Device? device, ScalarType? dtype)
    {
        var targetDevice = device ?? tensor.Device;
        var targetDtype = dtype is { } d && tensor.Dtype.IsFloatingPoint() ? d : tensor.Dtype;
        if (targetDevice == tensor.Device && targetDtype == tensor.Dtype) return;
        if (tensor is Parameter) tensor.ZeroGrad();
        using var moved = tensor.To(targetDtype, targetDevice).DetachFromScope();
        tensor.SetData(moved);
    }

    public void Train(bool training = true)
    {
        foreach (var (_, module) in NamedModules()) module.Training = training;
    }

    public void Eval() => Train(false);

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    public long ParameterCount() => Parameters().Sum(p => p.NumElements);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, child) in _children) child.Dispose();
        foreach (var (_, p) in _parameters) p.Dispose();
        foreach (var (_, b, _) in _buffers) b.Dispose();
        GC.SuppressFinalize(this);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";
}
