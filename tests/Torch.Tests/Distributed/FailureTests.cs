using System.Diagnostics;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Torch.Tests.Distributed;

public class FailureTests
{
    [Fact]
    public void ASilentRankIsNamedByEverySurvivorWithinTheTimeout()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var watch = Stopwatch.StartNew();
        var outcomes = LocalRanks.Run(3, g =>
        {
            if (g.Rank == 2)
            {
                // Alive but never joins the collective; stays in the group until the others have reported.
                Thread.Sleep(timeout * 3);
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
        Assert.Equal(new RendezvousAddress("10.0.0.1", 29500), RendezvousAddress.Parse("10.0.0.1:29500"));
        Assert.Equal("127.0.0.1", new RendezvousAddress("127.0.0.1", 1).LocalBindAddress());
    }
}
