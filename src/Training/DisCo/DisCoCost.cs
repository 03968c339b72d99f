namespace Orleans.MoE.Training.DisCo;

/// <summary>Measured wall times (seconds, on this machine) of the phases of one DisCo experiment and its baseline.</summary>
public sealed record DisCoTimes(
    IReadOnlyList<double> SubmodelSeconds,
    double FineTuneSeconds,
    double BaselineSeconds,
    double ClusteringSeconds = 0,
    double IntegrationSeconds = 0,
    int ClusteringDevices = 1);

/// <summary>Dollars and hours of one experiment under a price table, by phase and in total.</summary>
public sealed record DisCoCostReport(
    double SubmodelPhaseHours,
    double SubmodelPhaseDollars,
    double SubmodelPhaseDollarsSumVariant,
    double FineTuneHours,
    double FineTuneDollars,
    double ClusteringHours,
    double ClusteringDollars,
    int ClusteringDevices,
    double IntegrationHours,
    double IntegrationDollars,
    double BaselineHours,
    double BaselineDollars)
{
    /// <summary>The paper's total: E x slowest submodel x low-cost price + fine-tune x high-memory price.</summary>
    public double TotalDollars => SubmodelPhaseDollars + FineTuneDollars;

    /// <summary>Charging each submodel only for its own time.</summary>
    public double TotalDollarsSumVariant => SubmodelPhaseDollarsSumVariant + FineTuneDollars;

    /// <summary>The paper's total plus clustering and integration, which the paper leaves out.</summary>
    public double TotalDollarsAllIn => TotalDollars + ClusteringDollars + IntegrationDollars;

    /// <summary>Wall time with the submodels counted as parallel (the paper's Total Time).</summary>
    public double TotalHours => SubmodelPhaseHours + FineTuneHours;

    public double Reduction => 1 - TotalDollars / BaselineDollars;

    public double ReductionSumVariant => 1 - TotalDollarsSumVariant / BaselineDollars;

    public double ReductionAllIn => 1 - TotalDollarsAllIn / BaselineDollars;
}

/// <summary>
/// MoE-DisCo's cost model (paper Section 4.4, Table 3): the E submodels run in parallel on E low-cost
/// devices and every device is charged for the slowest one's time; the fine-tune and the baseline
/// run on one high-memory device. Also the variant that charges each submodel for its own time, the
/// clustering and integration phases the paper leaves out, and the break-even price ratio.
/// </summary>
public static class DisCoCostModel
{
    /// <param name="clusteringClass">where clustering ran (the data shards sit on the low-cost silos by default)</param>
    public static DisCoCostReport Evaluate(DisCoTimes times, DevicePriceTable prices, DeviceClass? clusteringClass = null)
    {
        if (times.SubmodelSeconds.Count == 0) throw new ArgumentException("at least one submodel time is needed", nameof(times));
        var low = prices.LowCost;
        var high = prices.HighMemory;
        var experts = times.SubmodelSeconds.Count;
        var slowest = low.Hours(times.SubmodelSeconds.Max());
        var sum = times.SubmodelSeconds.Sum(low.Hours);
        var fineTune = high.Hours(times.FineTuneSeconds);
        var baseline = high.Hours(times.BaselineSeconds);
        var clusteringOn = clusteringClass ?? low;
        var clustering = clusteringOn.Hours(times.ClusteringSeconds);
        var integration = high.Hours(times.IntegrationSeconds);
        return new DisCoCostReport(
            SubmodelPhaseHours: slowest,
            SubmodelPhaseDollars: experts * slowest * low.DollarsPerHour,
            SubmodelPhaseDollarsSumVariant: sum * low.DollarsPerHour,
            FineTuneHours: fineTune,
            FineTuneDollars: fineTune * high.DollarsPerHour,
            ClusteringHours: clustering,
            ClusteringDollars: clustering * clusteringOn.DollarsPerHour * times.ClusteringDevices,   // every data shard's device, for the slowest one's time
            ClusteringDevices: times.ClusteringDevices,
            IntegrationHours: integration,
            IntegrationDollars: integration * high.DollarsPerHour,
            BaselineHours: baseline,
            BaselineDollars: baseline * high.DollarsPerHour);
    }

    /// <summary>
    /// The largest low-cost / high-memory price ratio at which DisCo is still cheaper than the baseline:
    /// (T_baseline - T_finetune) / (E x T_slowest submodel), in hours on each class. Negative when the
    /// fine-tune alone takes longer than the baseline.
    /// </summary>
    public static double BreakEvenPriceRatio(DisCoCostReport report, int experts) =>
        (report.BaselineHours - report.FineTuneHours) / (experts * report.SubmodelPhaseHours);
}
