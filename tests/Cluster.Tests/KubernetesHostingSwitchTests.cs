using Orleans.MoE.Silo.Hosting;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// <c>MoE__Kubernetes__Hosting</c> really turns on Orleans' Kubernetes hosting: a `moe silo` process with
/// it, outside a pod, refuses to start and names the missing pod variable (the other cluster tests are
/// the silos without it, which start as before).
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class KubernetesHostingSwitchTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-k8s-hosting-" + Guid.NewGuid().ToString("N"));

    public KubernetesHostingSwitchTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ASiloWithKubernetesHostingOutsideAPodNamesWhatIsMissing()
    {
        using var redis = new RedisServer();
        var environment = new Dictionary<string, string> { [SiloConfiguration.KubernetesHosting.Replace(":", "__")] = "true" };
        using var silo = new SiloProcess("outside-a-pod", redis.ConnectionString, Path.Combine(_root, "artifacts"), ["class=low-cost"], environment);
        Assert.NotEqual(0, silo.Process.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("POD_NAMESPACE", silo.Process.Output);
    }
}
