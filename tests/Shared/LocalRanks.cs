using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Tests.Shared;

/// <summary>
/// Runs one body per rank, each on its own thread with its own process group over loopback, the way
/// P processes would; gloo groups are independent, so threads stand in for processes. Compiled into
/// every test project that needs it (tests/Shared).
/// </summary>
internal static class LocalRanks
{
    public static T[] Run<T>(int worldSize, Func<ProcessGroup, T> body, TimeSpan? timeout = null)
    {
        var address = new RendezvousAddress("127.0.0.1", RendezvousAddress.FreeLocalPort());
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                using var group = ProcessGroup.Join(address, rank, worldSize, timeout ?? TimeSpan.FromSeconds(60));
                using var scope = DisposeScope.Begin();
                results[rank] = body(group);
            }
            catch (Exception e)
            {
                errors[rank] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var failed = errors.Select((e, r) => (e, r)).Where(x => x.e is not null).ToArray();
        if (failed.Length > 0)
            throw new AggregateException(failed.Select(x => new Exception($"rank {x.r}: {x.e!.Message}", x.e)));
        return results;
    }

    public static void Run(int worldSize, Action<ProcessGroup> body, TimeSpan? timeout = null) =>
        Run(worldSize, g => { body(g); return 0; }, timeout);
}
