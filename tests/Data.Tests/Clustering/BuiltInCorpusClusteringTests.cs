using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Torch;
using Xunit.Abstractions;

namespace Orleans.MoE.Data.Tests.Clustering;

/// <summary>
/// The data decoupling on real text: the built-in corpus (capped at a few hundred documents per
/// domain to keep the test short), model-free features, spherical k-means with as many clusters as
/// domains, scored against the domain labels.
/// </summary>
public class BuiltInCorpusClusteringTests(ITestOutputHelper output)
{
    [Fact]
    public void ClustersAlignWithDomains()
    {
        using var scope = DisposeScope.Begin();
        var documents = new BuiltInCorpus(maxBytesPerDomain: 512 * 1024, maxDocumentsPerDomain: 200).ReadDocuments().ToList();
        var domains = documents.Select(d => d.Domain).ToList();
        var k = domains.Distinct().Count();
        Assert.Equal(BuiltInDomains.All.Count, k);

        var features = HashedNgramFeatures.Compute(documents.Select(d => d.Text).ToList(), new HashedNgramOptions { Seed = 1 });
        using var result = KMeans.Fit(features, new KMeansOptions { Clusters = k, Metric = KMeansMetric.Cosine, Restarts = 4, Seed = 2 });

        var nmi = ClusteringMetrics.NormalizedMutualInformation(result.Assignments, domains);
        var purity = ClusteringMetrics.Purity(result.Assignments, domains);
        output.WriteLine($"built-in corpus: {documents.Count} documents, {k} domains, k = {k}: NMI {nmi:F3}, purity {purity:F3}, inertia {result.Inertia:F1}, {result.Iterations} iterations");
        Console.WriteLine($"built-in corpus clustering: NMI {nmi:F3}, purity {purity:F3} ({documents.Count} documents, k = {k})");
        Assert.True(nmi >= 0.7, $"NMI {nmi:F3} is below 0.7");
    }
}
