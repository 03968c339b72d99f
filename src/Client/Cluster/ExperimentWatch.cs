using System.Globalization;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orleans.MoE.Client.Cluster;

/// <summary>
/// Follows an experiment until it ends or the caller stops watching: on a terminal a live view (the
/// phase, each job with its silo, step, loss, tokens/s and ETA, the latest events); with the output
/// redirected, its events as lines and a line per running job every so often.
/// </summary>
internal static class ExperimentWatch
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan PlainProgressEvery = TimeSpan.FromSeconds(15);
    private const int EventsShown = 8;

    /// <summary>Returns the last status seen: terminal, unless watching was stopped.</summary>
    public static async Task<ExperimentStatus> RunAsync(IExperimentCoordinatorGrain coordinator, CancellationToken stop)
    {
        var status = await coordinator.GetStatusAsync();
        var events = new List<ExperimentEvent>(await coordinator.GetEventsAsync(0));
        if (!AnsiConsole.Profile.Capabilities.Interactive) return await PlainAsync(coordinator, status, events, stop);

        await AnsiConsole.Live(Render(status, events)).AutoClear(false).StartAsync(async live =>
        {
            while (!status.Phase.IsTerminal() && !stop.IsCancellationRequested)
            {
                try { await Task.Delay(Poll, stop); } catch (OperationCanceledException) { break; }
                status = await coordinator.GetStatusAsync();
                events.AddRange(await coordinator.GetEventsAsync(events.Count == 0 ? 0 : events[^1].Sequence));
                live.UpdateTarget(Render(status, events));
            }
        });
        return status;
    }

    private static async Task<ExperimentStatus> PlainAsync(IExperimentCoordinatorGrain coordinator, ExperimentStatus status,
        List<ExperimentEvent> events, CancellationToken stop)
    {
        foreach (var e in events) Console.WriteLine(Line(e));
        var lastProgress = DateTimeOffset.UtcNow;
        while (!status.Phase.IsTerminal() && !stop.IsCancellationRequested)
        {
            try { await Task.Delay(Poll, stop); } catch (OperationCanceledException) { break; }
            status = await coordinator.GetStatusAsync();
            var fresh = await coordinator.GetEventsAsync(events.Count == 0 ? 0 : events[^1].Sequence);
            foreach (var e in fresh) Console.WriteLine(Line(e));
            events.AddRange(fresh);
            if (DateTimeOffset.UtcNow - lastProgress < PlainProgressEvery) continue;
            lastProgress = DateTimeOffset.UtcNow;
            foreach (var job in status.Jobs.Where(j => j.Status is JobStatus.Running or JobStatus.Waiting))
                Console.WriteLine($"  {job.Name,-18} {Progress(job)}");
        }
        return status;
    }

    private static string Line(ExperimentEvent e) => $"[{e.At.ToLocalTime():HH:mm:ss}] {e.Text}";

    private static IRenderable Render(ExperimentStatus status, IReadOnlyList<ExperimentEvent> events)
    {
        var table = new Table().Border(TableBorder.Rounded).Expand()
            .Title($"[bold]{Markup.Escape(status.Name)}[/] ({Markup.Escape(status.ExperimentId)}): [yellow]{status.Phase}[/]")
            .Caption(Markup.Escape(status.Message) + (status.Dollars > 0 ? string.Create(CultureInfo.InvariantCulture, $"   ${status.Dollars:F4} so far") : ""));
        foreach (var column in new[] { "Job", "Status", "Silo", "Class", "Step", "Loss", "Tokens/s", "ETA" }) table.AddColumn(column);
        foreach (var job in status.Jobs)
        {
            table.AddRow(
                Markup.Escape(job.Name),
                StatusMarkup(job),
                Markup.Escape(job.Silo ?? ""),
                Markup.Escape(job.DeviceClass),
                job.TotalSteps > 0 ? $"{job.Step}/{job.TotalSteps}" : "",
                job.Loss is { } loss ? loss.ToString("F4", CultureInfo.InvariantCulture) : "",
                job.TokensPerSecond is { } t ? t.ToString("N0", CultureInfo.InvariantCulture) : "",
                job.EtaSeconds is { } eta ? Duration(eta) : "");
        }
        var recent = events.TakeLast(EventsShown).Select(e => new Markup(Markup.Escape(Line(e)))).ToList<IRenderable>();
        return new Rows(table, new Panel(new Rows(recent)).Header("events").Expand());
    }

    private static string StatusMarkup(JobView job)
    {
        var text = job.Status switch
        {
            JobStatus.Succeeded => "[green]done[/]",
            JobStatus.Running => "[blue]running[/]",
            JobStatus.Waiting => "[yellow]waiting[/]",
            JobStatus.Failed => "[red]failed[/]",
            JobStatus.Cancelled => "[grey]cancelled[/]",
            _ => "pending",
        };
        if (job.Attempt > 1) text += $" (attempt {job.Attempt})";
        return job.Message is { } m && job.Status is JobStatus.Waiting or JobStatus.Failed ? $"{text} {Markup.Escape(m)}" : text;
    }

    private static string Progress(JobView job)
    {
        if (job.Status == JobStatus.Waiting) return job.Message ?? "waiting";
        var step = job.TotalSteps > 0 ? $"step {job.Step}/{job.TotalSteps}" : "running";
        var loss = job.Loss is { } l ? string.Create(CultureInfo.InvariantCulture, $"  loss {l:F4}") : "";
        var speed = job.TokensPerSecond is { } t ? string.Create(CultureInfo.InvariantCulture, $"  {t:N0} tok/s") : "";
        var eta = job.EtaSeconds is { } e ? $"  ETA {Duration(e)}" : "";
        return $"{step}{loss}{speed}{eta}  on {job.Silo}";
    }

    private static string Duration(double seconds) =>
        seconds >= 3600 ? $"{seconds / 3600:F1} h" : seconds >= 60 ? $"{seconds / 60:F0} min" : $"{seconds:F0} s";
}
