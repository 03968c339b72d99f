using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch.Distributed;

/// <summary>
/// One c10d process group: world-size ranks that rendezvoused through a <see cref="TcpStore"/>, with
/// the collectives of data, head and expert parallel training. Every collective has the group's
/// timeout. Every rank must issue the same collectives in the same order, with empty tensors where it
/// has nothing to send.
/// <para>
/// Every rank beats a heartbeat counter in the store from a background timer. When a collective
/// fails (a peer died, or did not answer within the timeout), a rank names as failed the ranks whose
/// heartbeat stopped, and raises a <see cref="CollectiveException"/>; a rank that is alive but stuck
/// keeps beating and is not blamed. The group is unusable afterwards.
/// </para>
/// </summary>
public sealed class ProcessGroup : IDisposable
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(250);

    // A heartbeat that has not moved for this long belongs to a dead rank.
    private static readonly TimeSpan HeartbeatSilence = TimeSpan.FromSeconds(3);

    private readonly GroupHandle _handle;
    private readonly TcpStore _heartbeatStore;   // its own connection: the timer thread must not share the main one
    private readonly Timer _heartbeat;
    private Exception? _failure;

    private ProcessGroup(TcpStore store, TcpStore heartbeatStore, GroupHandle handle, int rank, int worldSize, TimeSpan timeout,
        CollectiveBackend backend, Device device)
    {
        Store = store;
        Device = device;
        _heartbeatStore = heartbeatStore;
        _handle = handle;
        Rank = rank;
        WorldSize = worldSize;
        Timeout = timeout;
        Backend = backend;
        // One-shot, re-armed after each beat: beats never overlap on the heartbeat connection. Armed
        // only once the field is set, since the first beat re-arms it through the field.
        _heartbeat = new Timer(_ => Beat(), null, System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
        _heartbeat.Change(TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan);
    }

    public int Rank { get; }

    public int WorldSize { get; }

    /// <summary>The limit for every collective and for the rendezvous.</summary>
    public TimeSpan Timeout { get; }

    public CollectiveBackend Backend { get; }

    /// <summary>
    /// Where this group's tensors must live: the CPU for gloo, the rank's GPU for NCCL. Host-side
    /// values (metrics, split sizes) are moved here before a collective.
    /// </summary>
    public Device Device { get; }

    /// <summary>
    /// The backend for a rank that trains on <paramref name="device"/>: gloo for the CPU, NCCL for a
    /// GPU. Fails naming the cause when the device or NCCL is not available in this process.
    /// </summary>
    public static CollectiveBackend BackendFor(Device device)
    {
        if (device.Type == DeviceType.Cpu) return CollectiveBackend.Gloo;
        device.EnsureAvailable();
        if (!NcclAvailable)
            throw new DeviceUnavailableException(device,
                $"a process group on {device} needs NCCL, but the loaded native library was built without it ({TorchRuntime.Describe()}); " +
                "rebuild native/ with nccl.h found (cmake -DMOE_NCCL_INCLUDE_DIR=..., README: Building against another libtorch (CUDA)) or train on --device cpu");
        return CollectiveBackend.Nccl;
    }

    /// <summary>
    /// Joins the group with the backend for <paramref name="device"/> (see <see cref="BackendFor"/>);
    /// otherwise as <see cref="Join(RendezvousAddress, int, int, TimeSpan, CollectiveBackend, string?)"/>.
    /// </summary>
    public static ProcessGroup Join(RendezvousAddress address, int rank, int worldSize, TimeSpan timeout, Device device, string? bindAddress = null) =>
        JoinCore(address, rank, worldSize, timeout, BackendFor(device), device, bindAddress);

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
    public static ProcessGroup Join(RendezvousAddress address, int rank, int worldSize, TimeSpan timeout,
        CollectiveBackend backend = CollectiveBackend.Gloo, string? bindAddress = null) =>
        JoinCore(address, rank, worldSize, timeout, backend, backend == CollectiveBackend.Nccl ? Device.Cuda() : Device.Cpu, bindAddress);

    private static unsafe ProcessGroup JoinCore(RendezvousAddress address, int rank, int worldSize, TimeSpan timeout,
        CollectiveBackend backend, Device device, string? bindAddress)
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
            var handle = new GroupHandle(h);
            try
            {
                return new ProcessGroup(store, new TcpStore(address, worldSize, isMaster: false, timeout), handle, rank, worldSize, timeout, backend, device);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
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

    private void Beat()
    {
        try
        {
            _heartbeatStore.Add($"heartbeat/{Rank}", 1);
            _heartbeat.Change(HeartbeatInterval, System.Threading.Timeout.InfiniteTimeSpan);
        }
        catch (TorchException)
        {
            // The store is gone (rank 0 ended); the census of the ranks still running reports it.
        }
        catch (ObjectDisposedException)
        {
            // The group is being disposed.
        }
    }

    /// <summary>
    /// The ranks whose heartbeat does not move within <see cref="HeartbeatSilence"/> and that did not
    /// take a census of their own (a survivor may already have reported and exited); rank 0 alone when
    /// the store (which rank 0 serves) is unreachable. Rank 0 then keeps serving the store until every
    /// rank still alive has taken its own census (they notice the failure when their own collective
    /// fails, at the latest after the timeout), so that its exit does not mislead them.
    /// </summary>
    private IReadOnlyList<int> FindFailedRanks()
    {
        try
        {
            Store.Set($"failure/{Rank}", "survived");
            var others = Enumerable.Range(0, WorldSize).Where(r => r != Rank).ToList();
            var first = others.ToDictionary(r => r, r => Store.Add($"heartbeat/{r}", 0));
            var alive = new HashSet<int>();
            var deadline = DateTime.UtcNow + HeartbeatSilence;
            while (true)
            {
                foreach (var r in others.Where(r => !alive.Contains(r)))
                {
                    if (Store.Contains($"failure/{r}") || Store.Add($"heartbeat/{r}", 0) > first[r]) alive.Add(r);
                }
                if (alive.Count == others.Count || DateTime.UtcNow >= deadline) break;
                Thread.Sleep(HeartbeatInterval / 2);
            }
            var failed = others.Where(r => !alive.Contains(r)).ToList();
            Store.Add("failure/census-taken", 1);
            if (Rank == 0)
            {
                var survivors = WorldSize - failed.Count;
                var serveUntil = DateTime.UtcNow + Timeout + HeartbeatSilence;
                while (Store.Add("failure/census-taken", 0) < survivors && DateTime.UtcNow < serveUntil) Thread.Sleep(50);
            }
            return failed;
        }
        catch (TorchException)
        {
            return [0];
        }
    }

    public void Dispose()
    {
        // Wait for a beat in flight: it uses the heartbeat store, released just below.
        using (var stopped = new ManualResetEvent(false))
        {
            if (_heartbeat.Dispose(stopped)) stopped.WaitOne();
        }
        _handle.Dispose();
        _heartbeatStore.Dispose();
        Store.Dispose();
    }
    private sealed class GroupHandle : SafeHandle
    {
        public GroupHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.moe_process_group_free(handle) == 0;
    }
}
