using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.MoE.Config;
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
        curves.AddFigure(DisCoCharts.LossByStep(r), "Training loss by step: the baseline, each submodel on its own cluster (dashed), and the fine-tune after the merge" +
            (r.Control is null ? "." : "; the control's dense submodel on all data (dashed) and its fine-tune after the copy."));
        curves.AddFigure(DisCoCharts.LossByDollars(r), "Training loss against cumulative dollars under the price table. The S-phase curve is the slowest submodel's loss on its own cluster, " +
            "which can sit far below the loss on all the data.");
        curves.AddFigure(DisCoCharts.HeldOutByPhase(r), "Held-out perplexity after each phase.");
        var experts = html.AddSection("Experts and clusters");
        experts.AddFigure(DisCoCharts.ClusterPerplexity(r), "Held-out perplexity on each cluster's validation documents.");
        experts.AddFigure(DisCoCharts.ExpertLoad(r), "Expert load: the share of assignments each expert receives, averaged over the clusters' held-out tokens (1/E is perfect balance).");
        var evaluated = DisCoCharts.EvaluatedModels(r).ToDictionary(m => m.Label, m => m.Measured);
        experts.AddFigure(DisCoCharts.Routing(r, "DisCo", evaluated["DisCo"]), "Share of each cluster's tokens routed to each expert (DisCo, after fine-tuning).");
        experts.AddFigure(DisCoCharts.Routing(r, "baseline", evaluated["baseline"]), "The same for the baseline, whose experts were never tied to a cluster.");
        if (r.Control is not null)
            experts.AddFigure(DisCoCharts.Routing(r, "dense-upcycling control", evaluated["dense-upcycling control"]),
                "The same for the dense-upcycling control, whose experts started as identical copies.");
        html.AddSection("Configuration").AddPreformatted(File.ReadAllText(layout.ResolvedConfig));
        html.Save(layout.Report);
    }

    private static string Headline(DisCoResults r)
    {
        var eval = (JsonObject)r.Phase("evaluate");
        return string.Create(C,
            $"Held-out perplexity: DisCo {(double)eval["disco"]!["held_out_perplexity"]!:F2} vs baseline {(double)eval["baseline"]!["held_out_perplexity"]!:F2}. " +
            $"Cost: DisCo ${r.Cost.TotalDollars:F4} vs baseline ${r.Cost.BaselineDollars:F4} ({r.Cost.Reduction:P1} lower under the paper's formula; " +
            $"{r.Cost.ReductionSumVariant:P1} charging each submodel its own time; {r.Cost.ReductionAllIn:P1} including clustering and integration).") +
            (r.Control is { } control
                ? string.Create(C, $" Dense-upcycling control: perplexity {(double)r.Phase(DenseUpcyclingControl.Evaluate)["held_out_perplexity"]!:F2}, " +
                  $"cost ${control.Cost.TotalDollars:F4} ({control.Cost.Reduction:P1} lower than the baseline).")
                : "");
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
        table.Caption = StoppingRule("The fine-tune", fineTune);
        if (r.Control is not null)
        {
            var denseSteps = $"{(long)r.Phase(DenseUpcyclingControl.Dense)["steps"]!}";
            var controlFineTune = r.Phase(DenseUpcyclingControl.FineTune);
            table.AddRow("Dense-upcycling control, copied (before fine-tune)", "0", denseSteps, "-",
                F2(r.Phase(DenseUpcyclingControl.Upcycle)["held_out_perplexity"]));
            table.AddRow("Dense-upcycling control, fine-tuned", $"{(long)controlFineTune["steps"]!}", denseSteps, F4(controlFineTune["final_loss"]),
                F2(r.Phase(DenseUpcyclingControl.Evaluate)["held_out_perplexity"]));
            table.Caption += " " + StoppingRule("The control's fine-tune", controlFineTune) +
                             " The control's cheap-device steps are its one dense submodel's, on all the data.";
        }
        return table;
    }

    private static string StoppingRule(string phase, JsonObject fineTune) => (bool?)fineTune["reached_target"] == true
        ? string.Create(C, $"{phase} stopped when its loss reached the baseline's final loss ({(double)fineTune["target_loss"]!:F4}).")
        : $"{phase} ran all its configured steps" + (fineTune["target_loss"] is null ? "." : " without reaching the baseline's final loss.");

    private static ReportTable Table3(DisCoResults r)
    {
        var c = r.Cost;
        var p = r.Prices;
        var table = new ReportTable("Phase", "Device", "Time (h)", "Cost ($)");
        table.AddRow("Full-parameter baseline", $"{p.HighMemory.Name} x1", H(c.BaselineHours), D(c.BaselineDollars));
        table.AddRow("Clustering (not in the paper's total)", $"{p.LowCost.Name} x{c.ClusteringDevices}", H(c.ClusteringHours), D(c.ClusteringDollars));
        table.AddRow("S-phase: submodels (slowest x E)", $"{p.LowCost.Name} x{r.Config.Experts}", H(c.SubmodelPhaseHours), D(c.SubmodelPhaseDollars));
        table.AddRow("Integration (not in the paper's total)", $"{p.HighMemory.Name} x1", H(c.IntegrationHours), D(c.IntegrationDollars));
        table.AddRow("F-phase: fine-tune", $"{p.HighMemory.Name} x1", H(c.FineTuneHours), D(c.FineTuneDollars));
        table.AddRow("MoE-DisCo total (paper's formula)", "", H(c.TotalHours), D(c.TotalDollars));
        table.AddRow("MoE-DisCo total, each submodel charged its own time", "", H(c.TotalHours), D(c.TotalDollarsSumVariant));
        table.AddRow("MoE-DisCo total, all phases", "", H(c.TotalHours + c.ClusteringHours + c.IntegrationHours), D(c.TotalDollarsAllIn));
        if (r.Control is { Cost: var u })
        {
            table.AddRow("Control: dense submodel on all data", $"{p.LowCost.Name} x1", H(u.DenseHours), D(u.DenseDollars));
            table.AddRow("Control: copy into every expert (not in the total)", $"{p.HighMemory.Name} x1", H(u.UpcycleHours), D(u.UpcycleDollars));
            table.AddRow("Control: fine-tune", $"{p.HighMemory.Name} x1", H(u.FineTuneHours), D(u.FineTuneDollars));
            table.AddRow("Dense-upcycling control total", "", H(u.TotalHours), D(u.TotalDollars));
        }
        table.Caption = string.Create(C,
            $"Prices: {p.LowCost.Name} ${p.LowCost.DollarsPerHour}/h, {p.HighMemory.Name} ${p.HighMemory.DollarsPerHour}/h; times measured on this machine " +
            $"divided by each class's relative throughput. Break-even price ratio (cheap / expensive): {r.BreakEvenPriceRatio:F3}.");
        return table;
    }

    private static string Notes(DisCoResults r)
    {
        var nmi = r.Phase("cluster")["nmi"] is { } value ? FormattableString.Invariant($", NMI {(double)value:F3} against the domain labels") : "";
        return $"Clustering: {(string?)r.Phase("cluster")["method"]}{nmi}. " +
               $"Backbones averaged {ConfigNames.Of(r.Config.Integration.Averaging)}; router: {ConfigNames.Of(r.Config.Integration.Router)}. " +
               $"Submodels ran on {SubmodelSilos(r)}; the cost model charges them as if they ran in parallel on separate devices." +
               ControlNote(r);
    }

    /// <summary>The silos the submodels' jobs ran on, as recorded with their measurements.</summary>
    private static string SubmodelSilos(DisCoResults r)
    {
        var silos = Enumerable.Range(0, r.Config.Experts).Select(k => (string?)r.Phase(DisCoPhases.Submodel(k))["device"]?["silo"])
            .OfType<string>().Distinct().ToList();
        return silos.Count switch
        {
            0 => "this machine",
            1 => $"silo {silos[0]}",
            _ => $"silos {string.Join(", ", silos)}",
        };
    }

    private static string ControlNote(DisCoResults r)
    {
        if (r.Control is null) return "";
        var spec = r.Config.DenseUpcycling;
        var budget = spec.Steps is { } steps
            ? $"{steps} steps (set explicitly)"
            : spec.ResolvedBudget == DenseUpcyclingBudget.AllSubmodels
                ? $"{spec.ResolvedSteps(r.Config.Submodels, r.Config.Experts)} steps, E x submodels.steps: the same tokens as the S-phase"
                : $"{spec.ResolvedSteps(r.Config.Submodels, r.Config.Experts)} steps, as many as one submodel";
        return $" Dense-upcycling control: one dense submodel (backbone + expert slot {spec.Expert} of the initialisation) trained on all the data " +
               $"for {budget}, with the S-phase's settings; copied into all {r.Config.Experts} expert slots, router as DisCo's, then fine-tuned like DisCo. " +
               "It runs on one low-cost device, so it is charged its own time (compare with DisCo's 'each submodel charged its own time' total).";
    }

    private static string F2(JsonNode? v) => v is null ? "-" : ((double)v).ToString("F2", C);
    private static string F4(JsonNode? v) => v is null ? "-" : ((double)v).ToString("F4", C);
    private static string H(double hours) => hours.ToString("F4", C);
    private static string D(double dollars) => "$" + dollars.ToString("F4", C);
}
