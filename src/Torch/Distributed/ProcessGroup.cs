using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch.Distributed;

/// <summary>
/// One c10d process group: world-size ranks that rendezvoused through a <see cref="TcpStore"/>, with
/// the collectives of data, head and expert parallel training. Every collective has the group's
/// timeout. Every rank must issue the same collectives in the same order, with empty tensors where it
/// has nothing to send.
/// <para>
/// When a collective fails (a peer died, or did not answer within the timeout), the surviving ranks
/// take a census through the store to name the ranks that are gone, and raise a
/// <see cref="CollectiveException"/>. The group is unusable afterwards.
/// </para>
/// </summary>
public sealed class ProcessGroup : IDisposable
{
    // How long the survivors of a failure wait for each other to report; the whole census stays under it.
    private static readonly TimeSpan CensusWindow = TimeSpan.FromSeconds(10);

    private readonly GroupHandle _handle;
    private Exception? _failure;

    private ProcessGroup(TcpStore store, GroupHandle handle, int rank, int worldSize, TimeSpan timeout, CollectiveBackend backend)
    {
        Store = store;
        _handle = handle;
        Rank = rank;
        WorldSize = worldSize;
        Timeout = timeout;
        Backend = backend;
    }

    public int Rank { get; }

    public int WorldSize { get; }

    /// <summary>The limit for every collective and for the rendezvous.</summary>
    public TimeSpan Timeout { get; }

    public CollectiveBackend Backend { get; }

    public TcpStore Store { get; }

    /// <summary>Whether the loaded native library can create <see cref="CollectiveBackend.Nccl"/> groups.</summary>
    public static unsafe bool NcclAvailable
    {
        get
        {
            int available;
            TorchException.Check(NativeMethods.moe_nccl_available(&available));
            return available != 0;
        }
    }

    /// <summary>
    /// Joins the group: rank 0 serves the store at <paramref name="address"/>, the others connect;
    /// returns once all <paramref name="worldSize"/> ranks are in, or fails after <paramref name="timeout"/>.
    /// <paramref name="bindAddress"/> is where this rank's gloo listens (by default the local address
    /// that routes to the rendezvous host).
    /// </summary>
    public static unsafe ProcessGroup Join(RendezvousAddress address, int rank, int worldSize, TimeSpan timeout,
        CollectiveBackend backend = CollectiveBackend.Gloo, string? bindAddress = null)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "the world size must be at least 1");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the rank must be in 0..{worldSize - 1}");
        var store = new TcpStore(address, worldSize, isMaster: rank == 0, timeout);
        try
        {
            IntPtr h;
            fixed (byte* bind = TcpStore.Utf8Z(bindAddress ?? address.LocalBindAddress()))
                TorchException.Check(NativeMethods.moe_process_group_new(store.Handle, (int)backend, rank, worldSize,
                    TcpStore.Millis(timeout), bind, &h));
            return new ProcessGroup(store, new GroupHandle(h), rank, worldSize, timeout, backend);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private IntPtr Handle => _handle.DangerousGetHandle();

    private long TimeoutMs => TcpStore.Millis(Timeout);

    /// <summary>In place on every rank; <paramref name="counter"/> adds the payload bytes.</summary>
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum, TrafficCounter? counter = null, string? label = null) =>
        Run("all_reduce", label, () => NativeMethods.moe_all_reduce(Handle, tensor.Handle, (int)op, TimeoutMs, counter?.Handle ?? IntPtr.Zero));

    /// <summary>In place: every rank's <paramref name="tensor"/> becomes <paramref name="root"/>'s.</summary>
    public void Broadcast(Tensor tensor, int root = 0, string? label = null) =>
        Run("broadcast", label, () => NativeMethods.moe_broadcast(Handle, tensor.Handle, root, TimeoutMs));

    /// <summary>
    /// input (R, ...) -> (Σ outputSplits, ...). Rows [Σ in[&lt;r], Σ in[≤r]) go to rank r; rank r's block
    /// lands at rows [Σ out[&lt;r], Σ out[≤r]). Null splits mean R / world size rows each way. When the
    /// input requires grad, backward runs the reverse exchange with the splits swapped.
    /// </summary>
    public unsafe Tensor AllToAll(Tensor input, long[]? inputSplits = null, long[]? outputSplits = null,
        TrafficCounter? counter = null, string? label = null)
    {
        CheckSplits(inputSplits, nameof(inputSplits));
        CheckSplits(outputSplits, nameof(outputSplits));
        IntPtr result = IntPtr.Zero;
        fixed (long* pin = inputSplits)
        fixed (long* pout = outputSplits)
        {
            var (i, o) = ((IntPtr)pin, (IntPtr)pout);
            Run("all_to_all", label, () =>
            {
                IntPtr r;
                var status = NativeMethods.moe_all_to_all(Handle, input.Handle, (long*)i, (long*)o, TimeoutMs, counter?.Handle ?? IntPtr.Zero, &r);
                result = r;
                return status;
            });
        }
        return new Tensor(result);
    }

    /// <summary>input (...) -> (world size, ...): block r is rank r's input. Not differentiable.</summary>
    public unsafe Tensor AllGather(Tensor input, string? label = null)
    {
        IntPtr result = IntPtr.Zero;
        Run("all_gather", label, () =>
        {
            IntPtr r;
            var status = NativeMethods.moe_all_gather(Handle, input.Handle, TimeoutMs, &r);
            result = r;
            return status;
        });
        return new Tensor(result);
    }

    public void Barrier(string? label = null) => Run("barrier", label, () => NativeMethods.moe_barrier(Handle, TimeoutMs));

    private void CheckSplits(long[]? splits, string name)
    {
        if (splits is not null && splits.Length != WorldSize)
            throw new ArgumentException($"{name} has {splits.Length} entries; a group of {WorldSize} ranks needs one per rank", name);
    }

    private void Run(string operation, string? label, Func<int> call)
    {
        var name = label is null ? operation : $"{operation} ({label})";
        if (_failure is not null) throw new InvalidOperationException($"{name}: this process group already failed", _failure);
        GradMode.Sync();   // in-place collectives on parameters need libtorch's grad mode to match the managed one
        var status = call();
        if (status == 0) return;
        var error = TorchException.FromLastError(status);
        // Argument errors are this rank's own mistake; anything else is treated as a broken group.
        if (error.Status == 2) throw error;
        _failure = new CollectiveException(name, Rank, FindFailedRanks(), error.Message, error);
        throw _failure;
    }

    /// <summary>
    /// Every survivor posts "failure/{rank}" and polls (within <see cref="CensusWindow"/>) for the
    /// others' posts; ranks that never post are the failed ones. If the store is unreachable, rank 0
    /// (which serves it) is the one that failed. Rank 0 waits until the survivors have read the census,
    /// so that its exit does not make the store vanish under them. Polling, not the store's blocking
    /// wait: a wait that times out leaves the store connection out of step.
    /// </summary>
    private IReadOnlyList<int> FindFailedRanks()
    {
        var deadline = DateTime.UtcNow + (Timeout < CensusWindow ? Timeout : CensusWindow);
        try
        {
            Store.Set($"failure/{Rank}", "1");
            var missing = Enumerable.Range(0, WorldSize).Where(r => r != Rank).ToList();
            while (true)
            {
                missing.RemoveAll(r => Store.Contains($"failure/{r}"));
                if (missing.Count == 0 || DateTime.UtcNow >= deadline) break;
                Thread.Sleep(20);
            }
            Store.Add("failure/census-read", 1);
            if (Rank == 0)
            {
                var survivors = WorldSize - missing.Count;
                while (Store.Add("failure/census-read", 0) < survivors && DateTime.UtcNow < deadline + CensusWindow) Thread.Sleep(20);
            }
            return missing;
        }
        catch (TorchException)
        {
            return [0];
        }
    }

    public void Dispose()
    {
        _handle.Dispose();
        Store.Dispose();
    }

    private sealed class GroupHandle : SafeHandle
    {
        public GroupHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.moe_process_group_free(handle) == 0;
    }
}
