using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.MoE.Grains.Telemetry;
using Orleans.MoE.Silo.Telemetry;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Export of our spans and metrics: OTLP/HTTP to an endpoint on loopback (decoded as OTLP
/// protobuf), the span files of an experiment directory, and <c>moe trace</c>'s tree of them.
/// </summary>
public sealed class TelemetryExportTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-otel-" + Guid.NewGuid().ToString("N"));

    public TelemetryExportTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task SpansAndMetricsReachAnOtlpHttpEndpointAsOtlpProtobufWithTheirPersistedIds()
    {
        var port = FreePorts.Next();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentDictionary<string, byte[]>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync().WaitAsync(stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received[context.Request.Url!.AbsolutePath] = body.ToArray();
                Assert.Equal("application/x-protobuf", context.Request.ContentType);
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        builder.AddMoeTelemetry("moe-test", _root);
        var root = PersistedSpan.NewRoot();
        var phase = root.Child();
        // A name no other test uses: tests running beside this one in the process record spans too, into their own directories.
        var experimentDirectory = "exp-" + Guid.NewGuid().ToString("N");
        ExperimentTraces.Register(root.TraceId, experimentDirectory);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            // Emitted as a coordinator does, by whichever activation sees them end: child first.
            phase.Emit(ExperimentTelemetry.Experiments, "phase Preparing", phase.Start.AddSeconds(1), [new("moe.phase", "Preparing")]);
            root.Emit(ExperimentTelemetry.Experiments, "experiment", root.Start.AddSeconds(2), [new("moe.experiment.id", "exp")], ActivityStatusCode.Ok);
            ExperimentTelemetry.QueueWait.Record(0.25, new TagList { { "moe.device_class", "low-cost" } });
            await host.StopAsync();
        }   // disposing the providers flushes both exporters
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(received.ContainsKey("/v1/traces") && received.ContainsKey("/v1/metrics")) && DateTime.UtcNow < deadline) await Task.Delay(50);
        await stop.CancelAsync();
        listener.Stop();
        await serving;

        // ExportTraceServiceRequest: resource_spans(1) -> resource(1) -> attributes(1); scope_spans(2) -> scope(1).name(1), spans(2).
        Assert.True(received.TryGetValue("/v1/traces", out var traces), $"no OTLP trace export arrived; paths: {string.Join(", ", received.Keys)}");
        var resourceSpans = ProtobufReader.Read(traces).All(1).Select(f => f.Message).ToList();
        Assert.NotEmpty(resourceSpans);
        var service = resourceSpans[0].One(1).Message.All(1).Select(a => a.Message).Single(a => a.One(1).Text == "service.name");
        Assert.Equal("moe-test", service.One(2).Message.One(1).Text);
        var spans = resourceSpans.SelectMany(r => r.All(2)).Select(s => s.Message)
            .Where(s => s.One(1).Message.One(1).Text == ExperimentTelemetry.ExperimentsSourceName)
            .SelectMany(s => s.All(2)).Select(s => s.Message)
            .Where(s => s.One(1).Hex == root.TraceId)   // tests running beside this one emit spans of their own traces
            .ToList();
        // Span: trace_id(1), span_id(2), parent_span_id(4), name(5), start(7), end(8) in ns since the epoch.
        var experiment = spans.Single(s => s.One(5).Text == "experiment");
        var phaseSpan = spans.Single(s => s.One(5).Text == "phase Preparing");
        Assert.Equal(root.SpanId, experiment.One(2).Hex);
        Assert.DoesNotContain(experiment, f => f.Number == 4 && f.Bytes.Length > 0);
        Assert.Equal(phase.SpanId, phaseSpan.One(2).Hex);
        Assert.Equal(root.SpanId, phaseSpan.One(4).Hex);
        Assert.Equal(2_000_000_000UL, experiment.One(8).Scalar - experiment.One(7).Scalar, 1_000_000UL);

        // ExportMetricsServiceRequest: resource_metrics(1) -> scope_metrics(2) -> metrics(2) -> name(1).
        Assert.True(received.TryGetValue("/v1/metrics", out var metrics), "no OTLP metrics export arrived");
        var names = ProtobufReader.Read(metrics).All(1).SelectMany(r => r.Message.All(2)).SelectMany(s => s.Message.All(2)).Select(m => m.Message.One(1).Text).ToList();
        Assert.Contains("moe.job.queue_wait", names);

        // The same spans in the experiment's span file, and as a tree.
        var tree = SpanTree.Load(Path.Combine(_root, experimentDirectory));
        Assert.Empty(tree.Orphans);
        Assert.Equal("experiment", Assert.Single(tree.Roots).Name);
        Assert.Equal("phase Preparing", Assert.Single(tree.ChildrenOf(tree.Roots[0])).Name);
    }

    [Fact]
    public void WithoutAnEndpointNothingIsExportedOverOtlp()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc" }).Build();
        Assert.Equal(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")), MoeTelemetry.OtlpConfigured(config, "TRACES"));
        var set = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://127.0.0.1:4317" }).Build();
        Assert.True(MoeTelemetry.OtlpConfigured(set, "TRACES"));
    }

    [Fact]
    public void MoeTracePrintsTheTreeWithDurationsFromTheSpanFilesOfEveryProcess()
    {
        var traces = Directory.CreateDirectory(Path.Combine(_root, "exp", JsonLinesSpanExporter.DirectoryName)).FullName;
        var start = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        SpanRecord Span(string id, string? parent, string name, string process, double ms, double at, params (string, string)[] tags) => new()
        {
            TraceId = "0af7651916cd43dd8448eb211c80319c", SpanId = id, ParentSpanId = parent, Name = name, Source = "test", Process = process,
            Start = start.AddMilliseconds(at), DurationMs = ms, Status = "ok", Attributes = tags.ToDictionary(t => t.Item1, t => t.Item2),
        };
        var silo = new[]
        {
            Span("00000000000000a1", null, "experiment", "moe-silo", 12_500, 0),
            Span("00000000000000b1", "00000000000000a1", "phase Preparing", "moe-silo", 2_000, 10),
            Span("00000000000000c1", "00000000000000b1", "job prepare", "moe-silo", 1_900, 20, ("moe.job.attempt", "1"), ("moe.silo", "small-a")),
            Span("00000000000000b2", "00000000000000a1", "phase Reporting", "moe-silo", 300, 3_000),
        };
        var worker = new[] { Span("00000000000000d1", "00000000000000c1", "worker prepare", "moe-worker", 1_500.25, 30) };
        File.WriteAllLines(Path.Combine(traces, "moe-silo-1.jsonl"), silo.Select(s => s.ToJson()).Append(silo[1].ToJson()));   // emitted twice: counted once
        File.WriteAllLines(Path.Combine(traces, "moe-worker-2.jsonl"), worker.Select(s => s.ToJson()));

        using var moe = ChildProcess.Moe(["trace", Path.Combine(_root, "exp")]);
        Assert.True(moe.WaitForExit(TimeSpan.FromSeconds(60)) == 0, moe.Output);
        var lines = moe.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.Equal("experiment  12.50 s  [moe-silo]", lines[0]);
        Assert.Equal("├─ phase Preparing  2.00 s  [moe-silo]", lines[1]);
        Assert.Equal("│  └─ job prepare  1.90 s  [moe-silo]  attempt=1 silo=small-a", lines[2]);
        Assert.Equal("│     └─ worker prepare  1.50 s  [moe-worker]", lines[3]);
        Assert.Equal("└─ phase Reporting  300.0 ms  [moe-silo]", lines[4]);
        Assert.Equal("5 spans in 1 trace(s) from 2 kind(s) of process", lines[5]);

        // A write a killed process did not finish (no newline yet) is skipped; a damaged line names its file and line;
        // a missing directory names what was tried.
        File.AppendAllText(Path.Combine(traces, "moe-silo-1.jsonl"), "{\"trace_id\": \"0af7");
        Assert.Equal(5, SpanTree.Load(Path.Combine(_root, "exp")).Spans.Count);
        File.AppendAllText(Path.Combine(traces, "moe-worker-2.jsonl"), "{\"trace_id\": \n");
        using var damaged = ChildProcess.Moe(["trace", Path.Combine(_root, "exp")]);
        Assert.Equal(2, damaged.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("moe-worker-2.jsonl:2: not a span record", damaged.Output);
        using var missing = ChildProcess.Moe(["trace", "no-such-experiment", "--artifacts", _root]);
        Assert.Equal(2, missing.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("no-such-experiment", missing.Output);
    }
}
