using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.Tests.Reports;

/// <summary>A report with every kind of content, filled with numbers shaped like the paper's Tables 1 and 3.</summary>
internal static class SampleReport
{
    public static ReportTable Table1()
    {
        var t = new ReportTable("Model", "Data", "Full-Param Step", "Full Loss", "Full PPL", "DisCo Step", "DisCo Loss", "DisCo PPL")
            { Caption = "Steps to the target loss, loss and held-out perplexity" };
        t.AddRow("Qwen", "C4", "21,150", "4.954", "230.32", "4,100", "4.925", "165.86");
        t.AddRow("Qwen", "WikiText-2", "12,500", "2.303", "71.89", "3,150", "2.2964", "57.55");
        t.AddRow("Llama", "OpenWebText", "21,000", "4.536", "114.93", "7,800", "4.541", "106.82");
        return t;
    }

    public static ReportTable Table3()
    {
        var t = new ReportTable("Model", "Dataset", "Full Cost ($)", "Full Time (h)", "Full Platform", "S-Cost ($)", "S-Time (h)",
            "S-Platform", "F-Cost ($)", "F-Time (h)", "F-Platform", "Total Cost ($)", "Total Time (h)") { Caption = "Cost and time per phase" };
        t.AddRow("Qwen", "C4", "22.5036", "9.87", "A100×1", "2.9260", "2.09", "RTX4090×4", "3.9444", "1.73", "A100×1", "6.8704", "3.82");
        t.AddRow("Qwen", "Wiki", "6.9312", "3.04", "A100×1", "1.7920", "1.28", "RTX4090×4", "1.5504", "0.68", "A100×1", "3.3424", "1.96");
        return t;
    }

    private static List<(double X, double Y)> Curve(int from, int to, double start, double end, double noise, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(from, to - from).Where(s => s % 10 == 0)
            .Select(s => ((double)s, end + (start - end) * Math.Exp(-(s - from) / 300.0) + noise * (random.NextDouble() - 0.5)))
            .ToList();
    }

    public static HtmlReport Build()
    {
        var report = new HtmlReport("MoE-DisCo experiment <demo> & baseline");
        report.AddParagraph("Two experts, k-means clustering, uniform averaging; the numbers are made up for a rendering test.");
        report.AddDefinitions([("experts", "2"), ("router init", "fresh (paper)")]);

        var loss = report.AddSection("Training loss");
        var byStep = new SvgLineChart { Title = "Training loss vs step", XTitle = "step", YTitle = "loss" }
            .Add(new LineSeries("baseline", Curve(0, 2000, 7, 4.95, 0.1, 1)))
            .Add(new LineSeries("submodel 0", Curve(0, 1000, 7, 5.3, 0.1, 2), Dashed: true))
            .Add(new LineSeries("submodel 1", Curve(0, 1000, 7, 5.2, 0.1, 3), Dashed: true))
            .Add(new LineSeries("DisCo fine-tune", Curve(1000, 1600, 5.6, 4.9, 0.1, 4)))
            .AddHorizontalReference("target loss", 4.954)
            .AddVerticalMarker("merge", 1000);
        loss.AddFigure(byStep.Render(), "Submodels train on their clusters until the merge, then the merged MoE is fine-tuned.");
        var byDollars = new SvgLineChart { Title = "Training loss vs cumulative dollars", XTitle = "dollars", YTitle = "loss" }
            .Add(new LineSeries("baseline", Curve(0, 2000, 7, 4.95, 0.1, 1).Select(p => (p.X * 2.28 / 3600, p.Y)).ToList()))
            .Add(new LineSeries("DisCo", Curve(0, 1600, 7, 4.9, 0.1, 5).Select(p => (p.X * 0.35 / 3600, p.Y)).ToList()));
        loss.AddFigure(byDollars.Render());

        var ppl = report.AddSection("Held-out perplexity");
        ppl.AddFigure(new SvgLineChart { Title = "Perplexity per phase", XTitle = "phase", YTitle = "perplexity", LogY = true }
            .Add(new LineSeries("DisCo", [(0, 1100), (1, 310), (2, 240), (3, 166)]))
            .Add(new LineSeries("baseline", [(0, 1100), (3, 230)])).Render());
        ppl.AddFigure(new SvgBarChart(["cluster 0", "cluster 1"]) { Title = "Per-cluster perplexity", YTitle = "perplexity" }
            .AddSeries("baseline", [231.2, 229.4]).AddSeries("DisCo", [160.1, 171.7]).Render());

        var routing = report.AddSection("Routing");
        routing.AddFigure(new SvgBarChart(["expert 0", "expert 1"]) { Title = "Expert load", YTitle = "share of tokens", ValueFormat = "0.0%" }
            .AddSeries("load", [0.56, 0.44]).AddHorizontalReference("uniform", 0.5).Render());
        routing.AddFigure(new SvgHeatmap(new double[,] { { 0.91, 0.09 }, { 0.13, 0.87 } }, ["cluster 0", "cluster 1"], ["expert 0", "expert 1"])
            { Title = "Cluster-to-expert routing", RowTitle = "cluster", ColumnTitle = "expert", Min = 0, Max = 1, ValueFormat = "0.00" }.Render());

        var tables = report.AddSection("Tables");
        tables.AddTable(Table1());
        tables.AddSection("Cost").AddTable(Table3()).AddPreformatted("{\n  \"price\": { \"low-cost\": 0.35, \"high-memory\": 2.28 }\n}");
        return report;
    }
}
