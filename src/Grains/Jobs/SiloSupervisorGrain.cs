using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>The cluster's handle on one silo's <see cref="IJobSupervisor"/>: pinned to that silo by its key.</summary>
[SiloPinnedPlacement]
internal sealed class SiloSupervisorGrain(IJobSupervisor supervisor) : Grain, ISiloSupervisorGrain
{
    public Task StartAsync(JobLaunch launch) => supervisor.StartAsync(launch);

    public Task StopAsync(string jobKey, int attempt, string reason) => supervisor.StopAsync(jobKey, attempt, reason);

    public Task<IReadOnlyList<RunningJob>> GetRunningAsync() => Task.FromResult(supervisor.Running);

    public async Task<AttemptOnSilo> GetAttemptAsync(string jobKey, int attempt) =>
        new(supervisor.IsRunning(jobKey, attempt), await supervisor.FinalReportAsync(jobKey, attempt));

    public Task<int> FreePortAsync()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        listener.Start();
        return Task.FromResult(((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
    }
}
