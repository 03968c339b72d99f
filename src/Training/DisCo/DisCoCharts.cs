using System.Text.Json.Nodes;
using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The report's SVG plots. Each arm keeps one colour in every chart (the baseline blue, DisCo
/// vermillion, the dense-upcycling control green), and a dashed line is always an S-phase run.
/// </summary>
internal static class DisCoCharts
{
    /// <summary>Wide enough for the plot beside a legend of up to a dozen entries; the page column is 936 px.</summary>
    private const double Width = 920;

    private const string BaselineColour = "#0072B2";
    private const string DisCoColour = "#D55E00";
    private const string ControlColour = "#009E73";
    private const string NeutralColour = "#5F6B7A";

    // The Okabe-Ito colours the arms leave free, then grey, brown, purple and a darkened yellow (the
    // palette's own is faint on white) for E = 8.
    private static readonly string[] SubmodelColours = ["#E69F00", "#CC79A7", "#56B4E9", "#000000", "#999999", "#8C510A", "#7B3294", "#B8A600"];

    private static string SubmodelColour(int k) => SubmodelColours[k % SubmodelColours.Length];

    private static string ColourOf(string arm) => arm switch
    {
        "baseline" => BaselineColour,
        "DisCo" => DisCoColour,
        _ => ControlColour,
    };

    internal static string LossByStep(DisCoResults r)
    {
        var chart = new SvgLineChart { Width = Width, Title = "Training loss", XTitle = "step", YTitle = "loss (nats/token)" };
        chart.Add(LineSeries.FromColumns("baseline", r.BaselineLoss.Steps, r.BaselineLoss.Values) with { Colour = BaselineColour });
        for (var k = 0; k < r.SubmodelLoss.Count; k++)
            chart.Add(LineSeries.FromColumns($"submodel {k}", r.SubmodelLoss[k].Steps, r.SubmodelLoss[k].Values, dashed: true) with { Colour = SubmodelColour(k) });
        var offset = r.SubmodelLoss.Max(s => s.Steps.Count == 0 ? 0 : s.Steps[^1]);
        chart.Add(LineSeries.FromColumns("DisCo fine-tune", r.FineTuneLoss.Steps.Select(s => s + offset).ToList(), r.FineTuneLoss.Values) with { Colour = DisCoColour });
        chart.AddVerticalMarker("merge", offset);
        if (r.Control is { } control)
        {
            chart.Add(LineSeries.FromColumns("control: dense on all data", control.DenseLoss.Steps, control.DenseLoss.Values, dashed: true) with { Colour = ControlColour });
            var copied = control.DenseLoss.Steps.Count == 0 ? 0 : control.DenseLoss.Steps[^1];
            chart.Add(LineSeries.FromColumns("control: fine-tune", control.FineTuneLoss.Steps.Select(s => s + copied).ToList(), control.FineTuneLoss.Values) with { Colour = ControlColour });
            chart.AddVerticalMarker("control copied", copied);
        }
        if (r.Phase("fine_tune")["target_loss"] is { } target) chart.AddHorizontalReference("target (baseline final)", (double)target);
        return chart.Render();
    }

    internal static string LossByDollars(DisCoResults r)
    {
        var p = r.Prices;
        var chart = new SvgLineChart { Width = Width, Title = "Training loss by money spent", XTitle = "cumulative $", YTitle = "loss (nats/token)" };
        chart.Add(LineSeries.FromColumns("baseline", r.BaselineLoss.Seconds.Select(s => p.HighMemory.Hours(s) * p.HighMemory.DollarsPerHour).ToList(), r.BaselineLoss.Values) with { Colour = BaselineColour });
        // The S-phase as the paper charges it: E devices for the slowest submodel's time.
        var slowest = r.SubmodelLoss.OrderByDescending(s => s.Seconds.Count == 0 ? 0 : s.Seconds[^1]).First();
        var e = r.Config.Experts;
        chart.Add(LineSeries.FromColumns("DisCo S-phase (slowest submodel)", slowest.Seconds.Select(s => e * p.LowCost.Hours(s) * p.LowCost.DollarsPerHour).ToList(), slowest.Values, dashed: true) with { Colour = DisCoColour });
        var spent = r.Cost.SubmodelPhaseDollars;
        chart.Add(LineSeries.FromColumns("DisCo fine-tune", r.FineTuneLoss.Seconds.Select(s => spent + p.HighMemory.Hours(s) * p.HighMemory.DollarsPerHour).ToList(), r.FineTuneLoss.Values) with { Colour = DisCoColour });
        if (r.Control is { } control)
        {
            chart.Add(LineSeries.FromColumns("control: dense on all data", control.DenseLoss.Seconds.Select(s => p.LowCost.Hours(s) * p.LowCost.DollarsPerHour).ToList(),
                control.DenseLoss.Values, dashed: true) with { Colour = ControlColour });
            chart.Add(LineSeries.FromColumns("control: fine-tune", control.FineTuneLoss.Seconds
                .Select(s => control.Cost.DenseDollars + p.HighMemory.Hours(s) * p.HighMemory.DollarsPerHour).ToList(), control.FineTuneLoss.Values) with { Colour = ControlColour });
        }
        return chart.Render();
    }

    internal static string HeldOutByPhase(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        List<string> labels = ["baseline", "DisCo merged", "DisCo fine-tuned"];
        List<double> values = [(double)eval["baseline"]!["held_out_perplexity"]!, (double)r.Phase("integrate")["held_out_perplexity"]!,
            (double)eval["disco"]!["held_out_perplexity"]!];
        if (r.Control is not null)
        {
            labels.AddRange(["control copied", "control fine-tuned"]);
            values.AddRange([(double)r.Phase(DenseUpcyclingControl.Upcycle)["held_out_perplexity"]!,
                (double)r.Phase(DenseUpcyclingControl.Evaluate)["held_out_perplexity"]!]);
        }
        var chart = new SvgBarChart(labels) { Width = Width, Title = "Held-out perplexity", YTitle = "perplexity", ValueFormat = "0.00" };
        chart.AddSeries("perplexity", values, NeutralColour);   // one series across the arms, so no arm's colour
        return chart.Render();
    }

    internal static string ClusterPerplexity(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        var chart = new SvgBarChart(Enumerable.Range(0, r.Config.Experts).Select(k => $"cluster {k}").ToList())
            { Width = Width, Title = "Held-out perplexity per cluster", YTitle = "perplexity", ValueFormat = "0.0" };
        foreach (var (label, measured) in EvaluatedModels(r))
            chart.AddSeries(label, measured["cluster_perplexity"]!.AsArray().Select(v => (double?)v ?? double.NaN).ToList(), ColourOf(label));
        return chart.Render();
    }

    internal static string ExpertLoad(DisCoResults r)
    {
        var e = r.Config.Experts;
        var chart = new SvgBarChart(Enumerable.Range(0, e).Select(j => $"expert {j}").ToList())
            { Width = Width, Title = "Expert load", YTitle = "share of assignments", ValueFormat = "0.00" };
        foreach (var (label, measured) in EvaluatedModels(r))
        {
            var rows = measured["routing"]!.AsArray();
            chart.AddSeries(label, Enumerable.Range(0, e).Select(j => rows.Average(row => (double?)row![j] ?? double.NaN)).ToList(), ColourOf(label));
        }
        chart.AddHorizontalReference("1/E", 1.0 / e);
        return chart.Render();
    }

    /// <summary>The fine-tuned models' final measurements, by the name the charts give them.</summary>
    internal static IEnumerable<(string Label, JsonObject Measured)> EvaluatedModels(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        yield return ("baseline", (JsonObject)eval["baseline"]!);
        yield return ("DisCo", (JsonObject)eval["disco"]!);
        if (r.Control is not null) yield return ("dense-upcycling control", r.Phase(DenseUpcyclingControl.Evaluate));
    }

    internal static string Routing(DisCoResults r, string label, JsonObject measured)
    {
        var rows = measured["routing"]!.AsArray();
        var e = r.Config.Experts;
        var matrix = new double[rows.Count, e];
        for (var k = 0; k < rows.Count; k++)
            for (var j = 0; j < e; j++) matrix[k, j] = (double?)rows[k]![j] ?? double.NaN;
        return new SvgHeatmap(matrix, Enumerable.Range(0, rows.Count).Select(k => $"cluster {k}").ToList(), Enumerable.Range(0, e).Select(j => $"expert {j}").ToList())
        {
            Title = $"Routing: {label}", RowTitle = "cluster", ColumnTitle = "expert", Min = 0, Max = 1, ValueFormat = "0.00",
        }.Render();
    }
}
