using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// k-means over features that arrive in batches (Sculley 2010), for corpora whose features do not
/// fit in memory at once. Each batch is assigned to the nearest centroids (a matrix product), and
/// every centroid moves to the running mean of all points it has been given so far (per-centroid
/// learning rate 1 / count). Seeding is k-means++ on the first batches (at least
/// max(3K, 1024) rows). Passes repeat until the centroids move less than the tolerance in a pass,
/// then one more pass assigns every point. Deterministic for a seed when the batches come in the
/// same order. Each batch tensor is disposed once used.
/// </summary>
public static class MiniBatchKMeans
{
    /// <param name="batches">Yields the feature batches (rows, d) of one pass; called once per pass.</param>
    /// <param name="maxPasses">Passes over the data at most (<see cref="KMeansOptions.MaxIterations"/> is not used).</param>
    public static KMeansResult Fit(Func<IEnumerable<Tensor>> batches, KMeansOptions options, int maxPasses = 10)
    {
        if (maxPasses < 1) throw new ArgumentOutOfRangeException(nameof(maxPasses), maxPasses, "at least one pass is needed");
        if (options.BalanceSlack is not null) throw new ArgumentException("size-balanced assignment needs all points at once: use KMeans.Fit", nameof(options));
        var k = options.Clusters;
        using var scope = DisposeScope.Begin();

        var (sample, threshold) = Seed(batches, options);
        var random = new SeededRandom(SeededRandom.Derive(options.Seed, 0));
        var centroids = sample.IndexSelect(0, Tensor.FromArray(KMeansPlusPlus.ChooseCentres(sample, null, k, options.Metric, random))); // (K, d)
        sample.Dispose();
        var seen = new double[k];

        var passes = 0;
        var converged = false;
        while (passes < maxPasses && !converged)
        {
            passes++;
            var start = centroids.Clone();
            foreach (var batch in batches())
            {
                using var step = DisposeScope.Begin();
                var points = KMeans.Prepare(batch, options.Metric); // (b, d)
                batch.Dispose();
                var (assignments, _) = ClusterAssignment.Nearest(points, centroids, options.Metric, options.ChunkRows);
                var index = Tensor.FromArray(assignments); // (b)
                var sums = centroids.ZerosLike().IndexAdd(0, index, points); // (K, d)
                var counts = index.BinCount(k).ToArray<long>();
                var rate = new float[k];
                for (var c = 0; c < k; c++)
                {
                    seen[c] += counts[c];
                    rate[c] = counts[c] == 0 ? 0f : (float)(1.0 / seen[c]);
                }
                // c ← c + (Σ x - n c) / seen: the running mean of every point the centroid was given.
                var rates = Tensor.FromArray(rate).Unsqueeze(1); // (K, 1)
                var countColumn = Tensor.FromArray(Array.ConvertAll(counts, c => (float)c)).Unsqueeze(1); // (K, 1)
                var moved = centroids + (sums - centroids * countColumn) * rates;
                if (options.Metric == KMeansMetric.Cosine) moved = KMeans.NormalizeRows(moved);
                var kept = step.MoveToOuter(moved);
                centroids.Dispose();
                centroids = kept;
            }
            converged = (centroids - start).Square().Sum().Item() <= threshold;
            start.Dispose();
        }

        var all = new List<long>();
        var inertia = 0.0;
        foreach (var batch in batches())
        {
            using var step = DisposeScope.Begin();
            var (assignments, distances) = ClusterAssignment.Nearest(KMeans.Prepare(batch, options.Metric), centroids, options.Metric, options.ChunkRows);
            batch.Dispose();
            all.AddRange(assignments);
            foreach (var d in distances) inertia += d;
        }
        return new KMeansResult(all.ToArray(), centroids.DetachFromScope(), inertia, passes, 0, converged);
    }

    /// <summary>Rows for seeding (prepared for the metric) and the convergence threshold from their variance.</summary>
    private static (Tensor Sample, double Threshold) Seed(Func<IEnumerable<Tensor>> batches, KMeansOptions options)
    {
        var wanted = Math.Max(3L * options.Clusters, 1024);
        var parts = new List<Tensor>();
        long rows = 0;
        foreach (var batch in batches())
        {
            parts.Add(KMeans.Prepare(batch, options.Metric));
            batch.Dispose();
            rows += parts[^1].Size(0);
            if (rows >= wanted) break;
        }
        options.Validate(rows);
        var sample = Tensor.Cat(parts, 0); // (rows, d)
        foreach (var p in parts) p.Dispose();
        return (sample, options.Tolerance * KMeans.TotalVariance(sample));
    }
}
