using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orleans.MoE.Grains.Telemetry;

/// <summary>
/// The control plane's spans and instruments: the experiment (root, phase, job attempt), placement
/// decisions, and the job and cost instruments of the <c>Orleans.MoE</c> meter. Metric attributes
/// are device classes, phases and silo names: bounded sets, never grain keys or free text.
/// </summary>
public static class ExperimentTelemetry
{
    public const string ExperimentsSourceName = "Orleans.MoE.Experiments";
    public const string PlacementSourceName = "Orleans.MoE.Placement";
    public const string MeterName = "Orleans.MoE";
    public const string Version = "1.0";

    public static readonly ActivitySource Experiments = new(ExperimentsSourceName, Version);

    public static readonly ActivitySource Placement = new(PlacementSourceName, Version);

    private static readonly Meter Meter = new(MeterName, Version);

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("moe.job.queue_wait", "s", "Time a job attempt waited for a slot");

    public static readonly UpDownCounter<long> JobsRunning = Meter.CreateUpDownCounter<long>("moe.jobs.running", "{job}", "Worker processes running, per silo and device class");

    public static readonly Counter<double> Dollars = Meter.CreateCounter<double>("moe.experiment.dollars", "USD",
        "Dollars spent by finished jobs (measured time x the pool's declared price), per phase and device class; the per-experiment sum is the experiment span's moe.dollars");
}
