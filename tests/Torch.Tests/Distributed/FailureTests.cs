using System.Diagnostics;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Torch.Tests.Distributed;

public class FailureTests
{
    [Fact]
    public void ARankThatLeavesIsNamedByEverySurvivorWithinTheTimeout()
    {
        var timeout = TimeSpan.FromSeconds(5);
        var watch = Stopwatch.StartNew();
        var outcomes = LocalRanks.Run(3, g =>
        {
            if (g.Rank == 2)
            {
                // Leaves the way a killed process does: connections closed, heartbeat stopped.
                g.Dispose();
                return null;
            }
            return Assert.Throws<CollectiveException>(() => g.AllReduce(Tensor.Ones([4]), label: "gradients"));
        }, timeout);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        foreach (var error in outcomes.Take(2))
        {
            Assert.Equal([2], error!.FailedRanks);
            Assert.Contains("all_reduce (gradients)", error.Message);
            Assert.Contains("rank 2 failed", error.Message);
        }
    }

    [Fact]
    public void ARankThatIsAliveButSilentIsNotBlamed()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var outcomes = LocalRanks.Run(2, g =>
        {
            if (g.Rank == 1)
            {
                Thread.Sleep(timeout * 4);   // never joins the collective, but its heartbeat goes on
                return null;
            }
            return Assert.Throws<CollectiveException>(() => g.Barrier());
        }, timeout);
        Assert.Empty(outcomes[0]!.FailedRanks);
        Assert.Contains("every rank is still reachable", outcomes[0]!.Message);
    }

    [Fact]
    public void AGroupThatFailedRefusesFurtherCollectives()
    {
        var outcomes = LocalRanks.Run(2, g =>
        {
            if (g.Rank == 1) { Thread.Sleep(3000); return null; }
            Assert.Throws<CollectiveException>(() => g.Barrier());
            return Assert.Throws<InvalidOperationException>(() => g.Barrier());
        }, TimeSpan.FromSeconds(1));
        Assert.Contains("already failed", outcomes[0]!.Message);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData(":29500")]
    public void AMalformedRendezvousAddressSaysWhatIsExpected(string text)
    {
        var error = Assert.Throws<FormatException>(() => RendezvousAddress.Parse(text));
        Assert.Contains("host:port", error.Message);
    }

    [Fact]
    public void ARendezvousAddressParses()
    {
        Assert.Equal(new RendezvousAddress("192.0.2.1", 29500), RendezvousAddress.Parse("192.0.2.1:29500"));
        Assert.Equal("127.0.0.1", new RendezvousAddress("127.0.0.1", 1).LocalBindAddress());
    }
}
