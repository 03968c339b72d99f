using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Silo.Embedded;
using Orleans.MoE.Silo.Web;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The silo's web view: an embedded cluster runs a tiny experiment, headless Chromium renders the
/// page (its script fetches the JSON), and the DOM shows the experiment, its jobs and the silo.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class WebViewTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-web-" + Guid.NewGuid().ToString("N"));

    public WebViewTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task The_page_shows_the_experiment_its_jobs_the_silo_and_the_report()
    {
        var corpus = TestExperiments.WriteCorpus(Path.Combine(_root, "data"));
        var directory = Path.Combine(_root, "runs", "web-tiny");
        Directory.CreateDirectory(directory);
        await using var cluster = await EmbeddedCluster.StartAsync(new EmbeddedClusterOptions
        {
            ArtifactRoot = Path.GetDirectoryName(directory)!, StateDirectory = Path.Combine(directory, "cluster-state"),
            Pools = EmbeddedExperiment.Pools, WorkerCommand = EmbeddedExperiment.WorkerCommand,
        });
        Assert.NotNull(cluster.WebUrl);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/$", cluster.WebUrl);
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>("web-tiny");
        var status = await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = "web-tiny", ExperimentJson = TestExperiments.Tiny(corpus), Directory = "web-tiny",
        });
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!status.Phase.IsTerminal())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the experiment did not end in time: {status.Phase}: {status.Message}");
            await Task.Delay(200);
            status = await coordinator.GetStatusAsync();
        }
        Assert.Equal(ExperimentPhase.Completed, status.Phase);
        Assert.NotNull(status.Report);

        var dom = await RenderAsync(cluster.WebUrl!);
        Assert.Contains("web-tiny", dom);
        Assert.Matches(@"<span class=""phase"">Completed</span>", dom);
        var placed = status.Jobs.Where(j => j.Silo is not null).ToList();
        Assert.NotEmpty(placed);
        foreach (var job in placed)
            Assert.Matches($@"<tr class=""job""><td>{Regex.Escape(job.Name)}</td><td>{job.Status}</td><td>\d+</td><td>{Regex.Escape(WebUtility.HtmlEncode(job.Silo!))}</td>", dom);
        // Each pool of the one silo with its class and price.
        Assert.Matches(@"<tr class=""pool""><td>embedded</td><td>low-cost</td><td>cpu</td><td>\d+</td><td>\$0\.35</td>", dom);
        Assert.Matches(@"<tr class=""pool""><td>embedded</td><td>high-memory</td><td>cpu</td><td>\d+</td><td>\$2\.28</td>", dom);
        var link = Regex.Match(dom, @"<a class=""report"" href=""([^""]+)"">report</a>");
        Assert.True(link.Success, "the page has no report link");
        Assert.Equal("reports/" + status.Report!.Replace('\\', '/'), link.Groups[1].Value);

        using var http = new HttpClient { BaseAddress = new Uri(cluster.WebUrl!), Timeout = TimeSpan.FromSeconds(20) };
        var report = await http.GetAsync(link.Groups[1].Value);
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(_root, "runs", status.Report)), await report.Content.ReadAsStringAsync());
        // No way out of the artifact store, encoded or not.
        foreach (var escape in new[] { "reports/..%2F..%2Fetc%2Fpasswd", "reports/web-tiny/..%2F..%2F..%2Fetc%2Fhostname", "reports/%2Fetc%2Fpasswd" })
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(escape)).StatusCode);

        // The Orleans Dashboard next to it: its page, and its counters of this cluster's one silo.
        var dashboard = await http.GetAsync("dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        var dashboardPage = await dashboard.Content.ReadAsStringAsync();
        Assert.Contains("<title>Orleans Dashboard</title>", dashboardPage);
        Assert.Contains("index.min.js", dashboardPage);
        var counters = await http.GetAsync("dashboard/DashboardCounters");
        var countersText = await counters.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Contains("\"siloName\":\"embedded\"", countersText);
        Assert.Contains("\"status\":\"Active\"", countersText);
        Assert.Contains("Orleans.MoE.Grains.Experiments.ExperimentCoordinatorGrain", countersText);
    }

    [Fact]
    public async Task An_embedded_cluster_without_a_web_port_serves_nothing()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(new EmbeddedClusterOptions
        {
            ArtifactRoot = Path.Combine(_root, "runs"), StateDirectory = Path.Combine(_root, "state"), Pools = EmbeddedExperiment.Pools, WebPort = null,
        });
        Assert.Null(cluster.WebUrl);
    }

    [Fact]
    public void Only_html_files_inside_an_experiment_directory_of_the_store_are_served()
    {
        var store = Path.Combine(_root, "store");
        Directory.CreateDirectory(Path.Combine(store, "exp"));
        File.WriteAllText(Path.Combine(store, "exp", "report.html"), "<p>r</p>");
        File.WriteAllText(Path.Combine(store, "exp", "state.json"), "{}");
        File.WriteAllText(Path.Combine(store, "top.html"), "<p>t</p>");
        File.WriteAllText(Path.Combine(_root, "outside.html"), "<p>o</p>");
        File.CreateSymbolicLink(Path.Combine(store, "exp", "link.html"), Path.Combine(_root, "outside.html"));

        Assert.Equal(Path.Combine(store, "exp", "report.html"), ReportFiles.Resolve(store, "exp/report.html"));
        Assert.Equal(Path.Combine(store, "exp", "report.html"), ReportFiles.Resolve(store + "/", "exp/./report.html"));
        Assert.Null(ReportFiles.Resolve(store, "exp/../../outside.html"));          // leaves the store
        Assert.Null(ReportFiles.Resolve(store, Path.Combine(_root, "outside.html"))); // absolute
        Assert.Null(ReportFiles.Resolve(store, "exp/link.html"));                   // a link out of the store
        Assert.Null(ReportFiles.Resolve(store, "top.html"));                        // not in an experiment's directory
        Assert.Null(ReportFiles.Resolve(store, "exp/state.json"));                  // not a report
        Assert.Null(ReportFiles.Resolve(store, "exp/missing.html"));
        Assert.Null(ReportFiles.Resolve(store, "exp\\..\\..\\outside.html"));
        Assert.Null(ReportFiles.Resolve(store + "-other", "../store/exp/report.html"));
    }

    /// <summary>The page's DOM after its script ran, from headless Chromium (bounded: killed after a minute).</summary>
    private async Task<string> RenderAsync(string url)
    {
        var profile = Path.Combine(_root, "chromium-profile");
        var start = new ProcessStartInfo("chromium")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", $"--user-data-dir={profile}", "--dump-dom", url })
            start.ArgumentList.Add(arg);
        using var chromium = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start (apt-get install chromium; make test installs it)");
        var stderr = chromium.StandardError.ReadToEndAsync();
        var dom = chromium.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await chromium.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            chromium.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not render {url} within a minute: {await stderr}");
        }
        Assert.True(chromium.ExitCode == 0, $"chromium exited {chromium.ExitCode}: {await stderr}");
        return await dom;
    }
}
