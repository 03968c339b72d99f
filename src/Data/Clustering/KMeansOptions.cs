namespace Orleans.MoE.Data.Clustering;

/// <summary>How points are compared.</summary>
public enum KMeansMetric
{
    /// <summary>Squared euclidean distance; centroids are means (classic k-means).</summary>
    Euclidean,

    /// <summary>Cosine (spherical k-means): points and centroids are scaled to unit length; distance is 1 - cos.</summary>
    Cosine,
}

/// <summary>Settings of <see cref="KMeans"/> and <see cref="MiniBatchKMeans"/>.</summary>
public sealed record KMeansOptions
{
    public required int Clusters { get; init; }

    public KMeansMetric Metric { get; init; } = KMeansMetric.Euclidean;

    /// <summary>Lloyd iterations per restart at most.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>
    /// Stops when the centroids move less than this, in squared distance summed over centroids,
    /// relative to the total variance of the features (the convention of scikit-learn).
    /// </summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>Independent k-means++ starts; the one with the lowest inertia wins.</summary>
    public int Restarts { get; init; } = 1;

    public ulong Seed { get; init; }

    /// <summary>
    /// When set, assignment respects a capacity per cluster of (1 + slack) times an equal share of
    /// the total weight (documents, or tokens when weights are given), so that no cluster, and no
    /// submodel trained on it, is much larger than the others.
    /// </summary>
    public double? BalanceSlack { get; init; }

    /// <summary>Rows of the features multiplied by the centroids at once (bounds memory to rows x clusters).</summary>
    public int ChunkRows { get; init; } = 65536;

    public void Validate(long points)
    {
        if (Clusters < 1) throw new ArgumentOutOfRangeException(nameof(Clusters), Clusters, "at least one cluster is needed");
        if (points < Clusters) throw new ArgumentException($"{points} points cannot form {Clusters} clusters; use fewer clusters or more data");
        if (MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "must be at least 1");
        if (Restarts < 1) throw new ArgumentOutOfRangeException(nameof(Restarts), Restarts, "must be at least 1");
        if (Tolerance < 0) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "must not be negative");
        if (BalanceSlack is < 0) throw new ArgumentOutOfRangeException(nameof(BalanceSlack), BalanceSlack, "must not be negative");
        if (ChunkRows < 1) throw new ArgumentOutOfRangeException(nameof(ChunkRows), ChunkRows, "must be positive");
    }
}
