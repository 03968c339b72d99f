using System.Globalization;
using System.Text.Json.Nodes;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>One job of a finished experiment: when the coordinator asked for it, when its worker started and stepped, how long its phase took.</summary>
internal sealed record JobTimeline(string Name, DateTimeOffset AskedFor, DateTimeOffset? Launched, DateTimeOffset? FirstStep, double PhaseSeconds, string DeviceClass)
{
    /// <summary>Reads the timelines of every job from the coordinator's events, the workers' logs and state.json.</summary>
    public static IReadOnlyList<JobTimeline> Read(IReadOnlyList<ExperimentEvent> events, string experimentDirectory)
    {
        var state = DisCoState.Open(new DisCoLayout(experimentDirectory).State);
        var result = new List<JobTimeline>();
        foreach (var e in events.Where(e => e.Text.Contains(": asked for on a ", StringComparison.Ordinal)))
        {
            var name = e.Text[..e.Text.IndexOf(':')];
            var deviceClass = e.Text[(e.Text.IndexOf(" on a ", StringComparison.Ordinal) + 6)..].Replace(" silo", "");
            var log = Path.Combine(experimentDirectory, "jobs", name, "attempt-1", "worker.log");
            var lines = File.Exists(log) ? File.ReadAllLines(log).Where(l => l.StartsWith("--- ", StringComparison.Ordinal)).ToList() : [];
            DateTimeOffset? Time(Func<string, bool> which) => lines.FirstOrDefault(which) is { } l
                ? DateTimeOffset.Parse(l[4..l.IndexOf(' ', 4)], CultureInfo.InvariantCulture) : null;
            var phase = state.IsDone(name) ? state.Get(name) : new JsonObject();
            result.Add(new JobTimeline(name, e.At, Time(l => l.Contains(" attempt ", StringComparison.Ordinal)), Time(l => l.EndsWith(" first step", StringComparison.Ordinal)),
                (double?)phase["wall_seconds"] ?? 0, deviceClass));
        }
        return result;
    }
}
