using System.Globalization;
using System.Text;

namespace Orleans.MoE.Data.Clustering;

/// <summary>One cluster in the report: its size and which domains it holds (largest share first).</summary>
public sealed record ClusterSummary(int Cluster, long Documents, long Tokens, long ValidationDocuments, long ValidationTokens,
    IReadOnlyList<DomainShare> Domains);

public sealed record DomainShare(string Domain, long Documents);

/// <summary>
/// <c>report.json</c> of a clustering run: settings, convergence, inertia, cluster sizes (in
/// documents and tokens: the token count of the largest cluster decides how long the slowest
/// submodel trains) and agreement with the domain labels.
/// </summary>
public sealed record ClusteringReport(
    string Corpus,
    string Features,
    string Metric,
    int Clusters,
    ulong Seed,
    int Restarts,
    double? BalanceSlack,
    bool MiniBatch,
    int Iterations,
    bool Converged,
    double Inertia,
    double Purity,
    double NormalizedMutualInformation,
    double AdjustedRandIndex,
    IReadOnlyList<ClusterSummary> ClusterSummaries)
{
    /// <summary>Largest cluster's tokens over the mean: 1 when perfectly balanced.</summary>
    public double TokenImbalance =>
        ClusterSummaries.Count == 0 ? 1 : ClusterSummaries.Max(c => c.Tokens) / Math.Max(1e-9, ClusterSummaries.Average(c => (double)c.Tokens));

    public string ToText()
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"clustering of {Corpus}: {Clusters} clusters, {Features} features, {Metric} k-means{(MiniBatch ? " (mini-batch)" : "")}, seed {Seed}");
        s.AppendLine(c, $"inertia {Inertia:F4}, {Iterations} iterations, {(Converged ? "converged" : "stopped at the iteration limit")}");
        s.AppendLine(c, $"against domain labels: purity {Purity:F3}, NMI {NormalizedMutualInformation:F3}, ARI {AdjustedRandIndex:F3}; token imbalance {TokenImbalance:F2}");
        s.AppendLine(c, $"{"cluster",7} {"documents",10} {"tokens",10} {"val docs",9}  domains");
        foreach (var cluster in ClusterSummaries)
        {
            var domains = string.Join(", ", cluster.Domains.Take(3).Select(d => $"{d.Domain} {d.Documents}"));
            s.AppendLine(c, $"{cluster.Cluster,7} {cluster.Documents,10} {cluster.Tokens,10} {cluster.ValidationDocuments,9}  {domains}");
        }
        return s.ToString();
    }
}
