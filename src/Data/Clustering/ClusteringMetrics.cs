namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// Agreement between a clustering and reference labels (such as the documents' domains), from
/// their contingency table: purity, normalised mutual information (arithmetic-mean normalisation,
/// scikit-learn's default) and the adjusted Rand index.
/// </summary>
public static class ClusteringMetrics
{
    /// <summary>The share of points whose cluster's most common label is their own label.</summary>
    public static double Purity<TLabel>(IReadOnlyList<long> clusters, IReadOnlyList<TLabel> labels) where TLabel : notnull
    {
        var table = Contingency(clusters, labels);
        var majority = table.Values.GroupBy(c => c.Cluster).Sum(g => g.Max(c => c.Count));
        return (double)majority / clusters.Count;
    }

    /// <summary>I(U; V) / mean(H(U), H(V)); 1 for identical partitions, 0 for independent ones.</summary>
    public static double NormalizedMutualInformation<TLabel>(IReadOnlyList<long> clusters, IReadOnlyList<TLabel> labels) where TLabel : notnull
    {
        var n = (double)clusters.Count;
        var table = Contingency(clusters, labels);
        var clusterTotals = clusters.GroupBy(c => c).ToDictionary(g => g.Key, g => (double)g.Count());
        var labelTotals = labels.GroupBy(l => l).ToDictionary(g => g.Key, g => (double)g.Count());
        var mutual = 0.0;
        foreach (var (cluster, label, count) in table.Values)
            mutual += count / n * Math.Log(count * n / (clusterTotals[cluster] * labelTotals[label]));
        var hClusters = Entropy(clusterTotals.Values, n);
        var hLabels = Entropy(labelTotals.Values, n);
        if (hClusters == 0 && hLabels == 0) return 1.0; // one cluster and one label: identical partitions
        var mean = (hClusters + hLabels) / 2;
        return mean == 0 ? 0.0 : Math.Max(0, mutual) / mean;
    }

    /// <summary>The Rand index corrected for chance (Hubert and Arabie): 1 for identical partitions, about 0 for random ones.</summary>
    public static double AdjustedRandIndex<TLabel>(IReadOnlyList<long> clusters, IReadOnlyList<TLabel> labels) where TLabel : notnull
    {
        static double Pairs(double x) => x * (x - 1) / 2;
        var table = Contingency(clusters, labels);
        var sumCells = table.Values.Sum(c => Pairs(c.Count));
        var sumClusters = clusters.GroupBy(c => c).Sum(g => Pairs(g.Count()));
        var sumLabels = labels.GroupBy(l => l).Sum(g => Pairs(g.Count()));
        var expected = sumClusters * sumLabels / Pairs(clusters.Count);
        var maximum = (sumClusters + sumLabels) / 2;
        return maximum == expected ? 1.0 : (sumCells - expected) / (maximum - expected);
    }

    private static double Entropy(IEnumerable<double> counts, double n) => -counts.Sum(c => c / n * Math.Log(c / n));

    private static Dictionary<(long, TLabel), (long Cluster, TLabel Label, long Count)> Contingency<TLabel>(
        IReadOnlyList<long> clusters, IReadOnlyList<TLabel> labels) where TLabel : notnull
    {
        if (clusters.Count != labels.Count) throw new ArgumentException($"{clusters.Count} cluster ids but {labels.Count} labels");
        if (clusters.Count == 0) throw new ArgumentException("no points to compare");
        var table = new Dictionary<(long, TLabel), (long, TLabel, long)>();
        for (var i = 0; i < clusters.Count; i++)
        {
            var key = (clusters[i], labels[i]);
            table[key] = table.TryGetValue(key, out var cell) ? (cell.Item1, cell.Item2, cell.Item3 + 1) : (clusters[i], labels[i], 1);
        }
        return table;
    }
}
