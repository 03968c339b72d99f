using System.Net;
using Orleans.MoE.Silo.Health;
using Orleans.Runtime;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The silo's health endpoint (<c>MoE__Health__Port</c>): what each probe answers in each membership
/// state, and a real `moe silo` process answering on loopback once it has joined a Redis cluster.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class SiloHealthTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-health-" + Guid.NewGuid().ToString("N"));

    public SiloHealthTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(SiloStatus.Created, 503, 200, 503)]
    [InlineData(SiloStatus.Joining, 503, 200, 503)]
    [InlineData(SiloStatus.Active, 200, 200, 200)]
    [InlineData(SiloStatus.ShuttingDown, 200, 200, 503)]
    [InlineData(SiloStatus.Dead, 503, 200, 503)]
    public void ProbesFollowTheMembershipStatus(SiloStatus status, int startup, int live, int ready)
    {
        var health = new SiloHealth(() => status, CancellationToken.None);
        Assert.Equal(startup, health.Answer(SiloHealth.StartupPath).Status);
        Assert.Equal(live, health.Answer(SiloHealth.LivePath).Status);
        Assert.Equal(ready, health.Answer(SiloHealth.ReadyPath).Status);
        Assert.Equal(404, health.Answer("/healthz").Status);
    }

    [Fact]
    public void AStoppingSiloIsAliveButNotReady()
    {
        using var stopping = new CancellationTokenSource();
        var health = new SiloHealth(() => SiloStatus.Active, stopping.Token);
        stopping.Cancel();
        Assert.Equal(503, health.Answer(SiloHealth.ReadyPath).Status);
        Assert.Equal(200, health.Answer(SiloHealth.LivePath).Status);
        Assert.Equal(200, health.Answer(SiloHealth.StartupPath).Status);
    }

    [Fact]
    public async Task ARealSiloAnswersItsProbesOnceItHasJoined()
    {
        var port = FreePorts.Next();
        var environment = new Dictionary<string, string> { ["MoE__Health__Port"] = port.ToString(), ["MoE__Health__ListenAddress"] = "127.0.0.1" };
        await using var cluster = await ProcessCluster.StartAsync(_root, environment, ("probed", "class=low-cost"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

        // The silo has declared its pools (so it is Active); its startup probe says so within a bounded wait.
        var startup = await PollAsync(http, SiloHealth.StartupPath, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, startup);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(SiloHealth.LivePath)).StatusCode);
        var ready = await http.GetAsync(SiloHealth.ReadyPath);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("accepting jobs", (await ready.Content.ReadAsStringAsync()).Trim());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/healthz/other")).StatusCode);

        // SIGTERM: the silo stops taking jobs (ready 503) while it is still alive and leaving.
        ProcessCluster.Signal(cluster.Silo("probed").Process.Process.Id, "TERM");
        var afterTerm = await PollAsync(http, SiloHealth.ReadyPath, s => s != HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, afterTerm);
    }

    /// <summary>Requests the path every 50 ms until the status satisfies the condition or the time is up; null when nothing answered.</summary>
    private static async Task<HttpStatusCode?> PollAsync(HttpClient http, string path, Func<HttpStatusCode, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        HttpStatusCode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(path);
                last = response.StatusCode;
                if (condition(response.StatusCode)) return last;
            }
            catch (HttpRequestException)
            {
                // not listening (yet, or any more)
            }
            await Task.Delay(50);
        }
        return last;
    }
}
