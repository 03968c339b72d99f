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
    /// Stops when the centroids move at most this much in one iteration, in squared distance summed
    /// over centroids, relative to the mean over feature dimensions of their variance: scikit-learn's
    /// convention (<c>tol * mean(var(X, axis=0))</c>, on the points as clustered, i.e. unit rows for
    /// the cosine metric).
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

    /// <summary>Checks the settings alone (before any features are computed); every message names the setting.</summary>
    public void Validate()
    {
        if (Clusters < 1) throw new ArgumentException($"the number of clusters must be at least 1, not {Clusters}");
        if (MaxIterations < 1) throw new ArgumentException($"the maximum number of iterations must be at least 1, not {MaxIterations}");
        if (Restarts < 1) throw new ArgumentException($"the number of restarts must be at least 1, not {Restarts}");
        if (!(Tolerance >= 0)) throw new ArgumentException($"the tolerance must be a number >= 0, not {Tolerance}");
        if (BalanceSlack is { } slack && !(slack >= 0)) throw new ArgumentException($"the balance slack must be a number >= 0, not {slack}");
    }

    /// <summary>Checks the settings and that there are enough points for the clusters.</summary>
    public void Validate(long points)
    {
        Validate();
        if (points < Clusters) throw new ArgumentException($"{points} points cannot form {Clusters} clusters; use fewer clusters or more data");
    }
}
