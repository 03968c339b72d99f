using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>Runs one body per rank on its own thread, each with its own process group over loopback (gloo groups are independent).</summary>
internal static class RankThreads
{
    public static T[] Run<T>(int worldSize, ParallelMode mode, Func<ParallelContext, T> body)
    {
        var address = new RendezvousAddress("127.0.0.1", RendezvousAddress.FreeLocalPort());
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                using var group = ProcessGroup.Join(address, rank, worldSize, TimeSpan.FromSeconds(60));
                using var context = new ParallelContext(group, mode);
                using var scope = DisposeScope.Begin();
                results[rank] = body(context);
            }
            catch (Exception e)
            {
                errors[rank] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var failed = errors.Select((e, r) => (e, r)).Where(x => x.e is not null).ToArray();
        if (failed.Length > 0) throw new AggregateException(failed.Select(x => new Exception($"rank {x.r}: {x.e!.Message}", x.e)));
        return results;
    }
}
