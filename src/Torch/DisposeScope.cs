namespace Orleans.MoE.Torch;

/// <summary>
/// Owns the tensors created while it is current and disposes them together.
/// <para>
/// "Current" follows the async flow (an <see cref="AsyncLocal{T}"/>), not the thread: a scope begun
/// before an <c>await</c> still owns what is created after it, on whatever thread the continuation
/// runs, and tasks started inside a scope attach to it too (attachment is thread-safe).
/// </para>
/// <para>
/// To let a tensor outlive the scope, pass it to <see cref="MoveToOuter"/> (it joins the enclosing
/// scope, or none) or call <see cref="Tensor.DetachFromScope"/> and own it with <c>using</c>.
/// </para>
/// </summary>
public sealed class DisposeScope : IDisposable
{
    private static readonly AsyncLocal<DisposeScope?> CurrentScope = new();

    private readonly DisposeScope? _outer;
    private readonly HashSet<Tensor> _owned = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private DisposeScope(DisposeScope? outer) => _outer = outer;

    /// <summary>The innermost scope of the current async flow, if any.</summary>
    public static DisposeScope? Current => CurrentScope.Value;

    /// <summary>Begins a scope nested in the current one and makes it current.</summary>
    public static DisposeScope Begin()
    {
        var scope = new DisposeScope(CurrentScope.Value);
        CurrentScope.Value = scope;
        return scope;
    }

    /// <summary>How many live tensors this scope owns.</summary>
    public int Count
    {
        get { lock (_owned) return _owned.Count; }
    }

    /// <summary>Hands the tensor to the enclosing scope (or to no scope) and returns it.</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        lock (_owned)
        {
            if (!_owned.Remove(tensor))
                throw new InvalidOperationException("the tensor is not owned by this scope");
        }
        tensor.Scope = null;
        _outer?.Attach(tensor);
        return tensor;
    }

    internal void Attach(Tensor tensor)
    {
        lock (_owned)
        {
            if (_disposed)
                throw new ObjectDisposedException(nameof(DisposeScope),
                    "a tensor was created in a dispose scope that has already ended");
            _owned.Add(tensor);
        }
        tensor.Scope = this;
    }

    internal void Forget(Tensor tensor)
    {
        lock (_owned) _owned.Remove(tensor);
    }

    public void Dispose()
    {
        Tensor[] owned;
        lock (_owned)
        {
            if (_disposed) return;
            _disposed = true;
            owned = _owned.ToArray();
            _owned.Clear();
        }
        if (ReferenceEquals(CurrentScope.Value, this)) CurrentScope.Value = _outer;
        foreach (var tensor in owned)
        {
            tensor.Scope = null;
            tensor.Dispose();
        }
    }
}
