using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.MoE.Grains.Telemetry;
using Orleans.MoE.Silo.Worker;
using Orleans.MoE.Training.Telemetry;

namespace Orleans.MoE.Silo.Telemetry;

/// <summary>
/// OpenTelemetry for every process of the cluster (silo, client, worker): Orleans' activities and
/// ours, the Orleans.MoE and Microsoft.Orleans meters; OTLP export (gRPC or HTTP/protobuf) when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or its traces/metrics variant) is set, configured by the
/// standard <c>OTEL_EXPORTER_OTLP_*</c>, <c>OTEL_SERVICE_NAME</c> and <c>OTEL_RESOURCE_ATTRIBUTES</c>
/// variables; and the experiments' spans into their directories (<see cref="JsonLinesSpanExporter"/>).
/// </summary>
public static class MoeTelemetry
{
    /// <summary>Our sources: one per concern.</summary>
    public static readonly IReadOnlyList<string> MoeSources =
        [ExperimentTelemetry.ExperimentsSourceName, ExperimentTelemetry.PlacementSourceName, WorkerTelemetry.SourceName, TrainingTelemetry.SourceName];

    /// <summary>Orleans' own activities (grain calls, lifecycle, storage), propagated across silos by AddActivityPropagation.</summary>
    public static readonly IReadOnlyList<string> OrleansSources =
        ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Lifecycle", "Microsoft.Orleans.Storage"];

    public static readonly IReadOnlyList<string> Meters = [ExperimentTelemetry.MeterName, "Microsoft.Orleans"];

    /// <summary>Configuration key of the file exporter switch (on unless "false").</summary>
    public const string TraceFilesKey = "MoE:Telemetry:TraceFiles";

    /// <summary>Configuration key of the span group (default, per_step, all); <c>MOE_TRACE_SPANS</c> sets it too.</summary>
    public const string SpansKey = "MoE:Telemetry:Spans";

    /// <summary>Whether an OTLP endpoint is configured (for traces or metrics, or both).</summary>
    public static bool OtlpConfigured(IConfiguration? config, string signal) =>
        !string.IsNullOrWhiteSpace(Setting(config, "OTEL_EXPORTER_OTLP_ENDPOINT")) || !string.IsNullOrWhiteSpace(Setting(config, $"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"));

    /// <summary>A silo or a client: tracing and metrics as hosted services of the host being built.</summary>
    public static IHostApplicationBuilder AddMoeTelemetry(this IHostApplicationBuilder builder, string serviceName, string? artifactRoot)
    {
        var config = builder.Configuration;
        AddOtelVariables(builder.Configuration);
        if (config[SpansKey] is { } spans)
        {
            SpanGroups.Current = SpanGroups.Parse(spans, SpansKey);
            // Workers are processes of their own: they read the group from their environment.
            Environment.SetEnvironmentVariable(SpanGroups.Variable, SpanGroups.Name(SpanGroups.Current));
        }
        var files = artifactRoot is not null && !string.Equals(config[TraceFilesKey], "false", StringComparison.OrdinalIgnoreCase);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => Describe(r, serviceName))
            .WithTracing(t =>
            {
                t.AddSource([.. MoeSources]);
                if (files) t.AddProcessor(new SimpleActivityExportProcessor(new JsonLinesSpanExporter(artifactRoot!, serviceName)));
                if (!OtlpConfigured(config, "TRACES")) return;
                // Orleans' activities (one per grain call) only where they go somewhere: the span files take the experiments' spans only.
                t.AddSource([.. OrleansSources]);
                t.AddOtlpExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter([.. Meters]);
                if (OtlpConfigured(config, "METRICS")) m.AddOtlpExporter();
            });
        return builder;
    }

    /// <summary>A worker process (no host): providers to dispose before it exits, so that its last spans are written.</summary>
    public static IDisposable StartForWorker(string artifactRoot)
    {
        var tracing = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => Describe(r, WorkerTelemetry.ServiceName))
            .AddSource([.. MoeSources])
            .AddProcessor(new SimpleActivityExportProcessor(new JsonLinesSpanExporter(artifactRoot, WorkerTelemetry.ServiceName)));
        if (OtlpConfigured(null, "TRACES")) tracing.AddOtlpExporter();
        var metrics = Sdk.CreateMeterProviderBuilder().ConfigureResource(r => Describe(r, WorkerTelemetry.ServiceName)).AddMeter([.. Meters]);
        if (OtlpConfigured(null, "METRICS")) metrics.AddOtlpExporter();
        return new Providers(tracing.Build(), OtlpConfigured(null, "METRICS") ? metrics.Build() : null);
    }

    /// <summary>The service name is OTEL_SERVICE_NAME's when set (the SDK reads it and OTEL_RESOURCE_ATTRIBUTES), ours otherwise.</summary>
    private static void Describe(ResourceBuilder resource, string serviceName)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
            resource.AddService(serviceName, serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}");
    }

    /// <summary>
    /// The exporter reads its options from the host's configuration; a host built without the
    /// environment (the embedded cluster) gets the OTEL_* variables the configuration lacks.
    /// </summary>
    private static void AddOtelVariables(IConfigurationManager config)
    {
        var missing = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => ((string)e.Key, e.Value as string))
            .Where(e => e.Item1.StartsWith("OTEL_", StringComparison.Ordinal) && config[e.Item1] is null)
            .ToDictionary(e => e.Item1, e => e.Item2);
        if (missing.Count > 0) config.AddInMemoryCollection(missing);
    }

    private static string? Setting(IConfiguration? config, string name) => config?[name] ?? Environment.GetEnvironmentVariable(name);

    private sealed class Providers(TracerProvider? tracing, MeterProvider? metrics) : IDisposable
    {
        public void Dispose()
        {
            tracing?.Dispose();
            metrics?.Dispose();
        }
    }
}
