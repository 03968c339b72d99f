using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The experiment's report: a self-contained HTML page with SVG plots, and a Markdown summary whose
/// tables mirror the paper's Table 1 (steps, loss, perplexity) and Table 3 (cost and time per phase).
/// Every number comes from <see cref="DisCoResults"/>, i.e. from state.json and the metrics files.
/// </summary>
public static class DisCoReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Write(DisCoResults r, DisCoLayout layout)
    {
        var table1 = Table1(r);
        var table3 = Table3(r);
        var summary = new StringBuilder();
        summary.AppendLine(C, $"# MoE-DisCo experiment '{r.Config.Name}'").AppendLine();
        summary.AppendLine(Headline(r)).AppendLine();
        summary.AppendLine("## Steps, loss and perplexity (mirrors the paper's Table 1)").AppendLine();
        summary.AppendLine(MarkdownTable.Render(table1)).AppendLine();
        summary.AppendLine("## Cost and time per phase (mirrors the paper's Table 3)").AppendLine();
        summary.AppendLine(MarkdownTable.Render(table3)).AppendLine();
        summary.AppendLine(Notes(r));
        AtomicFile.Write(layout.Summary, s => s.Write(Encoding.UTF8.GetBytes(summary.ToString())));

        var html = new HtmlReport($"MoE-DisCo: {r.Config.Name}");
        html.AddParagraph(Headline(r));
        html.AddSection("Steps, loss and perplexity").AddTable(table1);
        html.AddSection("Cost and time").AddTable(table3).AddParagraph(Notes(r));
        var curves = html.AddSection("Training curves");
        curves.AddFigure(LossByStep(r), "Training loss by step: the baseline, each submodel on its own cluster (dashed), and the fine-tune after the merge.");
        curves.AddFigure(LossByDollars(r), "Training loss against cumulative dollars under the price table.");
        curves.AddFigure(HeldOutByPhase(r), "Held-out perplexity after each phase.");
        var experts = html.AddSection("Experts and clusters");
        experts.AddFigure(ClusterPerplexity(r), "Held-out perplexity on each cluster's validation documents.");
        experts.AddFigure(ExpertLoad(r), "Expert load: the share of assignments each expert receives, averaged over the clusters' held-out tokens (1/E is perfect balance).");
        experts.AddFigure(Routing(r, "disco"), "Share of each cluster's tokens routed to each expert (DisCo, after fine-tuning).");
        experts.AddFigure(Routing(r, "baseline"), "The same for the baseline, whose experts were never tied to a cluster.");
        html.AddSection("Configuration").AddPreformatted(File.ReadAllText(layout.ResolvedConfig));
        html.Save(layout.Report);
    }

    private static string Headline(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        return string.Create(C,
            $"Held-out perplexity: DisCo {(double)eval["disco"]!["held_out_perplexity"]!:F2} vs baseline {(double)eval["baseline"]!["held_out_perplexity"]!:F2}. " +
            $"Cost: DisCo ${r.Cost.TotalDollars:F4} vs baseline ${r.Cost.BaselineDollars:F4} ({r.Cost.Reduction:P1} lower under the paper's formula; " +
            $"{r.Cost.ReductionSumVariant:P1} charging each submodel its own time; {r.Cost.ReductionAllIn:P1} including clustering and integration).");
    }

    private static ReportTable Table1(DisCoResults r)
    {
        var baseline = r.Phase("baseline");
        var fineTune = r.Phase("fine_tune");
        var eval = (JsonObject)r.Phase("evaluate");
        var submodelSteps = Enumerable.Range(0, r.Config.Experts).Max(k => (long)r.Phase($"submodel-{k}")["steps"]!);
        var table = new ReportTable("Method", "Steps (expensive device)", "Steps (cheap devices, slowest)", "Final train loss", "Held-out PPL");
        table.AddRow("Full-parameter baseline", $"{(long)baseline["steps"]!}", "-", F4(baseline["final_loss"]), F2(eval["baseline"]!["held_out_perplexity"]));
        table.AddRow("MoE-DisCo, merged (before fine-tune)", "0", $"{submodelSteps}", "-", F2(r.Phase("integrate")["held_out_perplexity"]));
        table.AddRow("MoE-DisCo, fine-tuned", $"{(long)fineTune["steps"]!}", $"{submodelSteps}", F4(fineTune["final_loss"]), F2(eval["disco"]!["held_out_perplexity"]));
        table.Caption = (bool?)fineTune["reached_target"] == true
            ? string.Create(C, $"The fine-tune stopped when its loss reached the baseline's final loss ({(double)fineTune["target_loss"]!:F4}).")
            : "The fine-tune ran all its configured steps" + (fineTune["target_loss"] is null ? "." : " without reaching the baseline's final loss.");
        return table;
    }

    private static ReportTable Table3(DisCoResults r)
    {
        var c = r.Cost;
        var p = r.Config.Prices;
        var table = new ReportTable("Phase", "Device", "Time (h)", "Cost ($)");
        table.AddRow("Full-parameter baseline", $"{p.HighMemory.Name} x1", H(c.BaselineHours), D(c.BaselineDollars));
        table.AddRow("Clustering (not in the paper's total)", $"{p.LowCost.Name} x1", H(c.ClusteringHours), D(c.ClusteringDollars));
        table.AddRow("S-phase: submodels (slowest x E)", $"{p.LowCost.Name} x{r.Config.Experts}", H(c.SubmodelPhaseHours), D(c.SubmodelPhaseDollars));
        table.AddRow("Integration (not in the paper's total)", $"{p.HighMemory.Name} x1", H(c.IntegrationHours), D(c.IntegrationDollars));
        table.AddRow("F-phase: fine-tune", $"{p.HighMemory.Name} x1", H(c.FineTuneHours), D(c.FineTuneDollars));
        table.AddRow("MoE-DisCo total (paper's formula)", "", H(c.TotalHours), D(c.TotalDollars));
        table.AddRow("MoE-DisCo total, each submodel charged its own time", "", H(c.TotalHours), D(c.TotalDollarsSumVariant));
        table.AddRow("MoE-DisCo total, all phases", "", H(c.TotalHours + c.ClusteringHours + c.IntegrationHours), D(c.TotalDollarsAllIn));
        table.Caption = string.Create(C,
            $"Prices: {p.LowCost.Name} ${p.LowCost.DollarsPerHour}/h, {p.HighMemory.Name} ${p.HighMemory.DollarsPerHour}/h; times measured on this machine " +
            $"divided by each class's relative throughput. Break-even price ratio (cheap / expensive): {r.BreakEvenPriceRatio:F3}.");
        return table;
    }

    private static string Notes(DisCoResults r)
    {
        var nmi = r.Phase("cluster")["nmi"] is { } value ? FormattableString.Invariant($", NMI {(double)value:F3} against the domain labels") : "";
        return $"Clustering: {(string?)r.Phase("cluster")["method"]}{nmi}. " +
               $"Backbones averaged {Config.ConfigReader.SnakeCase(r.Config.Integration.Averaging)}; router: {Config.ConfigReader.SnakeCase(r.Config.Integration.Router)}. " +
               "Submodels ran one after another on this machine; the cost model charges them as if they ran in parallel on separate devices.";
    }

    private static string LossByStep(DisCoResults r)
    {
        var chart = new SvgLineChart { Title = "Training loss", XTitle = "step", YTitle = "loss (nats/token)" };
        chart.Add(LineSeries.FromColumns("baseline", r.BaselineLoss.Steps, r.BaselineLoss.Values));
        for (var k = 0; k < r.SubmodelLoss.Count; k++)
            chart.Add(LineSeries.FromColumns($"submodel {k}", r.SubmodelLoss[k].Steps, r.SubmodelLoss[k].Values, dashed: true));
        var offset = r.SubmodelLoss.Max(s => s.Steps.Count == 0 ? 0 : s.Steps[^1]);
        chart.Add(LineSeries.FromColumns("DisCo fine-tune", r.FineTuneLoss.Steps.Select(s => s + offset).ToList(), r.FineTuneLoss.Values));
        chart.AddVerticalMarker("merge", offset);
        if (r.Phase("fine_tune")["target_loss"] is { } target) chart.AddHorizontalReference("target (baseline final)", (double)target);
        return chart.Render();
    }

    private static string LossByDollars(DisCoResults r)
    {
        var p = r.Config.Prices;
        var chart = new SvgLineChart { Title = "Training loss by money spent", XTitle = "cumulative $", YTitle = "loss (nats/token)" };
        chart.Add(LineSeries.FromColumns("baseline", r.BaselineLoss.Seconds.Select(s => p.HighMemory.Hours(s) * p.HighMemory.DollarsPerHour).ToList(), r.BaselineLoss.Values));
        // The S-phase as the paper charges it: E devices for the slowest submodel's time.
        var slowest = r.SubmodelLoss.OrderByDescending(s => s.Seconds.Count == 0 ? 0 : s.Seconds[^1]).First();
        var e = r.Config.Experts;
        chart.Add(LineSeries.FromColumns("DisCo S-phase (slowest submodel)", slowest.Seconds.Select(s => e * p.LowCost.Hours(s) * p.LowCost.DollarsPerHour).ToList(), slowest.Values, dashed: true));
        var spent = r.Cost.SubmodelPhaseDollars;
        chart.Add(LineSeries.FromColumns("DisCo fine-tune", r.FineTuneLoss.Seconds.Select(s => spent + p.HighMemory.Hours(s) * p.HighMemory.DollarsPerHour).ToList(), r.FineTuneLoss.Values));
        return chart.Render();
    }

    private static string HeldOutByPhase(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        var chart = new SvgBarChart(["baseline", "DisCo merged", "DisCo fine-tuned"]) { Title = "Held-out perplexity", YTitle = "perplexity", ValueFormat = "0.00" };
        chart.AddSeries("perplexity", [(double)eval["baseline"]!["held_out_perplexity"]!, (double)r.Phase("integrate")["held_out_perplexity"]!,
            (double)eval["disco"]!["held_out_perplexity"]!]);
        return chart.Render();
    }

    private static string ClusterPerplexity(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        var chart = new SvgBarChart(Enumerable.Range(0, r.Config.Experts).Select(k => $"cluster {k}").ToList())
            { Title = "Held-out perplexity per cluster", YTitle = "perplexity", ValueFormat = "0.0" };
        foreach (var name in new[] { "baseline", "disco" })
            chart.AddSeries(name == "disco" ? "DisCo" : "baseline", eval[name]!["cluster_perplexity"]!.AsArray().Select(v => (double?)v ?? double.NaN).ToList());
        return chart.Render();
    }

    private static string ExpertLoad(DisCoResults r)
    {
        var e = r.Config.Experts;
        var chart = new SvgBarChart(Enumerable.Range(0, e).Select(j => $"expert {j}").ToList())
            { Title = "Expert load", YTitle = "share of assignments", ValueFormat = "0.00" };
        foreach (var name in new[] { "baseline", "disco" })
        {
            var rows = ((JsonObject)r.Phase("evaluate"))[name]!["routing"]!.AsArray();
            chart.AddSeries(name == "disco" ? "DisCo" : "baseline",
                Enumerable.Range(0, e).Select(j => rows.Average(row => (double?)row![j] ?? double.NaN)).ToList());
        }
        chart.AddHorizontalReference("1/E", 1.0 / e);
        return chart.Render();
    }

    private static string Routing(DisCoResults r, string model)
    {
        var rows = ((JsonObject)r.Phase("evaluate"))[model]!["routing"]!.AsArray();
        var e = r.Config.Experts;
        var matrix = new double[rows.Count, e];
        for (var k = 0; k < rows.Count; k++)
            for (var j = 0; j < e; j++) matrix[k, j] = (double?)rows[k]![j] ?? double.NaN;
        return new SvgHeatmap(matrix, Enumerable.Range(0, rows.Count).Select(k => $"cluster {k}").ToList(), Enumerable.Range(0, e).Select(j => $"expert {j}").ToList())
        {
            Title = model == "disco" ? "Routing: DisCo" : "Routing: baseline", RowTitle = "cluster", ColumnTitle = "expert", Min = 0, Max = 1, ValueFormat = "0.00",
        }.Render();
    }

    private static string F2(JsonNode? v) => v is null ? "-" : ((double)v).ToString("F2", C);
    private static string F4(JsonNode? v) => v is null ? "-" : ((double)v).ToString("F4", C);
    private static string H(double hours) => hours.ToString("F4", C);
    private static string D(double dollars) => "$" + dollars.ToString("F4", C);
}
