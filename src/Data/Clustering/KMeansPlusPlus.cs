using Orleans.MoE.Data.Clustering.Sharding;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007; the greedy form scikit-learn uses): the
/// first centre is a uniformly drawn point; each next one is the best, by the resulting potential,
/// of 2 + ln K candidates drawn with probability proportional to the current distance. The
/// distances to candidates are one matrix product per round. Sharded, each shard computes the
/// distances of its own points and every shard draws from the gathered ones, alike.
/// </summary>
internal static class KMeansPlusPlus
{
    /// <summary>Indices of the chosen points, in order of choice.</summary>
    public static long[] ChooseCentres(FeatureMatrix points, int clusters, KMeansMetric metric, SeededRandom random, int threads) =>
        ChooseCentres(new ShardedPoints(points, SingleShard.Instance), clusters, metric, random, threads);

    /// <summary>Global indices of the chosen points, in order of choice; the same on every shard.</summary>
    public static long[] ChooseCentres(ShardedPoints points, int clusters, KMeansMetric metric, SeededRandom random, int threads)
    {
        var n = (int)points.TotalRows;
        var trials = 2 + (int)Math.Log(clusters);
        var chosen = new long[clusters];
        chosen[0] = random.Next(n);
        var closest = Distances(points, [chosen[0]], metric, threads)[0];

        for (var c = 1; c < clusters; c++)
        {
            var total = 0.0;
            foreach (var d in closest) total += d;
            var candidates = new long[trials];
            for (var t = 0; t < trials; t++) candidates[t] = total > 0 ? Draw(closest, total, random) : random.Next(n);

            var candidateDistances = Distances(points, candidates, metric, threads);
            var bestTrial = 0;
            var bestPotential = double.PositiveInfinity;
            for (var t = 0; t < trials; t++)
            {
                var potential = 0.0;
                var d = candidateDistances[t];
                for (var i = 0; i < n; i++) potential += Math.Min(closest[i], d[i]);
                if (potential < bestPotential)
                {
                    bestPotential = potential;
                    bestTrial = t;
                }
            }
            chosen[c] = candidates[bestTrial];
            var best = candidateDistances[bestTrial];
            for (var i = 0; i < n; i++) closest[i] = Math.Min(closest[i], best[i]);
        }
        return chosen;
    }

    private static long Draw(float[] weights, double total, SeededRandom random)
    {
        var target = random.NextDouble() * total;
        var running = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            running += weights[i];
            if (running > target && weights[i] > 0) return i;
        }
        for (var i = weights.Length - 1; i >= 0; i--) if (weights[i] > 0) return i; // rounding at the very end
        return 0;
    }

    /// <summary>Distances from every point (of every shard) to each of the given points: one array of N per candidate.</summary>
    private static float[][] Distances(ShardedPoints points, long[] candidates, KMeansMetric metric, int threads)
    {
        var centres = new CentroidSet(points.GatherRows(candidates), candidates.Length, points.Columns); // (t, d)
        var matrix = ClusterAssignment.DistanceMatrix(points.Local, centres, metric, threads); // (local N, t) row-major
        return points.ConcatColumns(matrix, candidates.Length);
    }
}
