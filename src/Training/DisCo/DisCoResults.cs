using System.Text.Json.Nodes;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.DisCo;

/// <summary>A training curve: (step, value) pairs from a run's metrics.jsonl.</summary>
public sealed record Curve(IReadOnlyList<double> Steps, IReadOnlyList<double> Values, IReadOnlyList<double> Seconds);

/// <summary>Everything the report shows, read back from state.json and the runs' metrics (never recomputed).</summary>
public sealed record DisCoResults(
    DisCoExperimentConfig Config,
    JsonObject Phases,
    DevicePriceTable Prices,
    DisCoCostReport Cost,
    double BreakEvenPriceRatio,
    Curve BaselineLoss,
    Curve FineTuneLoss,
    IReadOnlyList<Curve> SubmodelLoss,
    Curve BaselineHeldOut,
    Curve FineTuneHeldOut,
    DenseUpcyclingResults? Control = null)
{
    public JsonObject Phase(string name) => (JsonObject)Phases[name]!;

    public static DisCoResults From(DisCoExperimentConfig config, DisCoLayout layout, DisCoState state)
    {
        var phases = new JsonObject();
        foreach (var n in DisCoPhases.All(config).Where(n => n != DisCoPhases.Report)) phases[n] = state.Get(n).DeepClone();
        var prices = PricesOf(phases, config.Prices);

        double Seconds(string phase, string field = "training_seconds") => (double)phases[phase]![field]!;
        var times = new DisCoTimes(
            Enumerable.Range(0, config.Experts).Select(k => Seconds($"submodel-{k}")).ToList(),
            FineTuneSeconds: Seconds("fine_tune"),
            BaselineSeconds: Seconds("baseline"),
            ClusteringSeconds: Seconds("cluster", "wall_seconds"),
            IntegrationSeconds: Seconds("integrate", "wall_seconds"),
            ClusteringDevices: (int?)phases["cluster"]!["data_shards"] ?? 1);
        var cost = DisCoCostModel.Evaluate(times, prices);
        var control = config.DenseUpcycling.Enabled
            ? new DenseUpcyclingResults(
                DenseUpcyclingCostModel.Evaluate(Seconds(DenseUpcyclingControl.Dense), Seconds(DenseUpcyclingControl.Upcycle, "wall_seconds"),
                    Seconds(DenseUpcyclingControl.FineTune), Seconds("baseline"), prices),
                Read(layout.ControlDense, "train", "loss"), Read(layout.ControlFineTune, "train", "loss"), Read(layout.ControlFineTune, "eval", "perplexity"))
            : null;
        return new DisCoResults(config, phases, prices, cost, DisCoCostModel.BreakEvenPriceRatio(cost, config.Experts),
            Read(layout.Baseline, "train", "loss"), Read(layout.FineTune, "train", "loss"),
            Enumerable.Range(0, config.Experts).Select(k => Read(layout.Submodel(k), "train", "loss")).ToList(),
            Read(layout.Baseline, "eval", "perplexity"), Read(layout.FineTune, "eval", "perplexity"), control);
    }

    /// <summary>
    /// The prices the phases ran at: each phase's measurements name the device pool of the silo that
    /// ran it (its declared price and throughput); the S-phase's class is the submodels' pool, the
    /// high-memory class the fine-tune's. Phases without a recorded pool fall back to the experiment's table.
    /// </summary>
    private static DevicePriceTable PricesOf(JsonObject phases, DevicePriceTable fallback)
    {
        static DeviceClass Of(JsonNode? phase, DeviceClass otherwise) =>
            phase?["device"] is JsonObject d
                ? new DeviceClass((string?)d["class"] ?? otherwise.Name, (double)d["dollars_per_hour"]!, (double?)d["relative_throughput"] ?? 1.0)
                : otherwise;
        return new DevicePriceTable(Of(phases[DisCoPhases.Submodel(0)], fallback.LowCost), Of(phases[DisCoPhases.FineTune], fallback.HighMemory));
    }

    private static Curve Read(string runDirectory, string kind, string field)
    {
        var lines = MetricsLog.Read(Path.Combine(runDirectory, MetricsLog.FileName)).Where(l => (string?)l["event"] == kind).ToList();
        double elapsed = 0;
        var seconds = new List<double>();
        foreach (var l in lines)
        {
            elapsed += (double?)l["seconds"] ?? 0;
            seconds.Add(elapsed);
        }
        return new Curve(lines.Select(l => (double)(long)l["step"]!).ToList(), lines.Select(l => (double?)l[field] ?? double.NaN).ToList(), seconds);
    }
}

/// <summary>The dense-upcycling control's cost and curves (its measurements are in <see cref="DisCoResults.Phases"/>, under control_*).</summary>
public sealed record DenseUpcyclingResults(DenseUpcyclingCostReport Cost, Curve DenseLoss, Curve FineTuneLoss, Curve FineTuneHeldOut);
