using System.Text;
using Orleans.MoE.Data.Corpora;

namespace Orleans.MoE.Data.Tests.Corpora;

/// <summary>
/// Reads the built-in corpus from its Debian packages, installing them when missing (the test
/// machines run as root with access to Debian's mirror). Nothing is skipped: without the packages
/// and without root the test fails with the apt-get line to run.
/// </summary>
public class BuiltInCorpusTests
{
    [Fact]
    public void EveryDomainYieldsLabelledDocumentsWithinTheCap()
    {
        const long cap = 48 * 1024;
        var corpus = new BuiltInCorpus(maxBytesPerDomain: cap);
        var documents = corpus.ReadDocuments().ToList();
        var byDomain = documents.GroupBy(d => d.Domain).ToDictionary(g => g.Key, g => g.ToList());

        Assert.Equal(BuiltInDomains.All.Select(d => d.Domain).Order(), byDomain.Keys.Order());
        foreach (var (domain, docs) in byDomain)
        {
            var bytes = docs.Sum(d => (long)d.Text.Length);
            Assert.InRange(bytes, cap / 2, cap);
            Assert.All(docs, d => Assert.True(File.Exists(d.Licence), $"{domain}: licence file {d.Licence} is missing"));
        }
        Assert.All(byDomain["scripture-en"], d => Assert.Matches(@"^[1-3A-Z][A-Za-z ]* \d+\n1 ", Encoding.UTF8.GetString(d.Text)));
        Assert.All(byDomain["fortunes-de"], d => Assert.DoesNotContain("\n%\n", Encoding.UTF8.GetString(d.Text)));
        Assert.Contains(byDomain["fortunes-ru"], d => Encoding.UTF8.GetString(d.Text).Any(c => c is >= 'а' and <= 'я'));
        Assert.All(byDomain["c-headers"], d => Assert.EndsWith(".h", d.Id));
        Assert.All(byDomain["go"], d => Assert.Contains("package ", Encoding.UTF8.GetString(d.Text)));
        Assert.All(byDomain["python"], d => Assert.EndsWith(".py", d.Id));

        // The same cap gives the same documents: the selection is deterministic.
        Assert.Equal(documents.Select(d => d.Id), new BuiltInCorpus(maxBytesPerDomain: cap).ReadDocuments().Select(d => d.Id));
    }

    [Fact]
    public void DocumentCapLimitsEachDomain()
    {
        var documents = new BuiltInCorpus(maxDocumentsPerDomain: 5, domains: ["fortunes-es", "gnu-prose"]).ReadDocuments().ToList();
        Assert.Equal(5, documents.Count(d => d.Domain == "fortunes-es"));
        Assert.Equal(5, documents.Count(d => d.Domain == "gnu-prose"));
    }

    [Fact]
    public void UnknownDebianPackageIsNamed()
    {
        var e = Assert.Throws<DebianPackageException>(() => DebianPackages.EnsureInstalled(["no-such-package-moe-data"], allowUpdate: false));
        Assert.Contains("'no-such-package-moe-data'", e.Message);
        Assert.Contains("apt-cache policy no-such-package-moe-data", e.Message);
    }

    [Fact]
    public void UnknownDomainIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new BuiltInCorpus(domains: ["klingon"]));
        Assert.Contains("'klingon'", e.Message);
        Assert.Contains("fortunes-de", e.Message);
    }
}
