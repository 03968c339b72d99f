using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// k-means over features that arrive in batches (Sculley 2010), for corpora whose features do not
/// fit in memory at once. Each batch is assigned to the nearest centroids (<see cref="LloydKernel"/>), and
/// every centroid moves to the running mean of all points it has been given so far (per-centroid
/// learning rate 1 / count). Seeding is k-means++ on the first batches (at least
/// max(3K, 1024) rows). Passes repeat until the centroids move less than the tolerance in a pass,
/// then one more pass assigns every point. Deterministic for a seed when the batches come in the
/// same order. Each batch tensor is disposed once used. The tolerance is relative to the mean
/// feature variance of the seeding rows (scikit-learn's convention, as in <see cref="KMeans"/>).
/// </summary>
public static class MiniBatchKMeans
{
    /// <param name="batches">Yields the feature batches (rows, d) of one pass; called once per pass.</param>
    /// <param name="maxPasses">Passes over the data at most (<see cref="KMeansOptions.MaxIterations"/> is not used).</param>
    public static KMeansResult Fit(Func<IEnumerable<Tensor>> batches, KMeansOptions options, int maxPasses = 10)
    {
        if (maxPasses < 1) throw new ArgumentException($"mini-batch k-means needs at least one pass, not {maxPasses}", nameof(maxPasses));
        if (options.BalanceSlack is not null) throw new ArgumentException("size-balanced assignment needs all points at once: use KMeans.Fit", nameof(options));
        options.Validate();
        var k = options.Clusters;
        var threads = TorchRuntime.Threads;

        var (sample, threshold) = Seed(batches, options);
        var random = new SeededRandom(SeededRandom.Derive(options.Seed, 0));
        var centroids = sample.Gather(KMeansPlusPlus.ChooseCentres(sample, k, options.Metric, random, threads)); // (K, d)
        var d = sample.Columns;
        var seen = new double[k];
        var sums = new ClusterSums(k, d);

        var passes = 0;
        var converged = false;
        while (passes < maxPasses && !converged)
        {
            passes++;
            var start = (float[])centroids.Clone();
            foreach (var batch in batches())
            {
                var points = Prepared(batch, options.Metric, d); // (b, d)
                var assignments = new long[points.Rows];
                LloydKernel.Assign(points, new CentroidSet(centroids, k, d), options.Metric, threads, assignments, new float[points.Rows], sums);
                // c ← c + (Σ x - n c) / seen: the running mean of every point the centroid was given.
                for (var c = 0; c < k; c++)
                {
                    var count = sums.Counts[c];
                    if (count == 0) continue;
                    seen[c] += count;
                    var rate = (float)(1.0 / seen[c]);
                    for (var j = 0; j < d; j++)
                    {
                        var at = c * d + j;
                        centroids[at] += ((float)sums.Totals[at] - centroids[at] * count) * rate;
                    }
                }
                if (options.Metric == KMeansMetric.Cosine) KMeans.NormalizeRows(centroids, d);
            }
            var shift = 0.0;
            for (var i = 0; i < centroids.Length; i++) shift += (double)(centroids[i] - start[i]) * (centroids[i] - start[i]);
            converged = shift <= threshold;
        }

        var all = new List<long>();
        var inertia = 0.0;
        var final = new CentroidSet(centroids, k, d);
        foreach (var batch in batches())
        {
            var (assignments, distances) = ClusterAssignment.Nearest(Prepared(batch, options.Metric, d), final, options.Metric, threads);
            all.AddRange(assignments);
            foreach (var distance in distances) inertia += distance;
        }
        return new KMeansResult(all.ToArray(), Tensor.FromArray(centroids, k, d).DetachFromScope(), inertia, passes, 0, converged);
    }

    /// <summary>A batch as points for the metric; the batch tensor is disposed.</summary>
    private static FeatureMatrix Prepared(Tensor batch, KMeansMetric metric, int columns)
    {
        using (batch)
        {
            var points = KMeans.Points(batch, metric);
            if (points.Columns != columns) throw new ArgumentException($"a batch of {points.Columns}-dimensional features follows batches of {columns}", nameof(batch));
            return points;
        }
    }

    /// <summary>Rows for seeding (prepared for the metric) and the convergence threshold from their variance.</summary>
    private static (FeatureMatrix Sample, double Threshold) Seed(Func<IEnumerable<Tensor>> batches, KMeansOptions options)
    {
        var wanted = Math.Max(3L * options.Clusters, 1024);
        var parts = new List<FeatureMatrix>();
        long rows = 0;
        foreach (var batch in batches())
        {
            parts.Add(Prepared(batch, options.Metric, parts.Count == 0 ? (int)batch.Size(1) : parts[0].Columns));
            rows += parts[^1].Rows;
            if (rows >= wanted) break;
        }
        options.Validate(rows);
        var sample = new FeatureMatrix(parts.SelectMany(p => p.Values).ToArray(), (int)rows, parts[0].Columns); // (rows, d)
        return (sample, options.Tolerance * sample.MeanVariance());
    }
}
