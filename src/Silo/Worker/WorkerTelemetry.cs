using System.Diagnostics;

namespace Orleans.MoE.Silo.Worker;

/// <summary>The worker process's spans: the job's run in this process (under its attempt's span, from the job file's traceparent) and the rendezvous of a rank.</summary>
public static class WorkerTelemetry
{
    public const string SourceName = "Orleans.MoE.Worker";
    public const string ServiceName = "moe-worker";

    public static readonly ActivitySource Source = new(SourceName, "1.0");
}
