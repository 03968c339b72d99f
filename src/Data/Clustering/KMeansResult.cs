using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// The outcome of k-means: a cluster per point, the centroids (K, d) as a tensor owned by this
/// result (unit length for the cosine metric), the inertia (sum of point-to-centroid distances:
/// squared euclidean, or 1 - cos) and how the run went.
/// </summary>
public sealed class KMeansResult(long[] assignments, Tensor centroids, double inertia, int iterations, int bestRestart, bool converged)
    : IDisposable
{
    public long[] Assignments { get; } = assignments;

    /// <summary>(K, d) Float32.</summary>
    public Tensor Centroids { get; } = centroids;

    public double Inertia { get; } = inertia;

    /// <summary>Lloyd iterations of the winning restart (epochs for mini-batch).</summary>
    public int Iterations { get; } = iterations;

    public int BestRestart { get; } = bestRestart;

    public bool Converged { get; } = converged;

    public int Clusters => (int)Centroids.Size(0);

    /// <summary>Points per cluster.</summary>
    public long[] Sizes()
    {
        var sizes = new long[Clusters];
        foreach (var a in Assignments) sizes[a]++;
        return sizes;
    }

    public void Dispose() => Centroids.Dispose();
}
