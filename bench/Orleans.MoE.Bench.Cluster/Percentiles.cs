namespace Orleans.MoE.Bench.Cluster;

internal static class Percentiles
{
    public static double Of(IReadOnlyList<double> values, double quantile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
