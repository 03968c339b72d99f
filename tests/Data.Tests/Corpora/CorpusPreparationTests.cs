using System.Text;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Shards;

namespace Orleans.MoE.Data.Tests.Corpora;

public sealed class CorpusPreparationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-prepare-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class ListSource(string name, IEnumerable<CorpusDocument> documents) : ICorpusSource
    {
        public string Name => name;
        public IEnumerable<CorpusDocument> ReadDocuments() => documents;
    }

    private static CorpusDocument Doc(string id, string domain, string text) => new(id, domain, "test licence", Encoding.UTF8.GetBytes(text));

    private static List<CorpusDocument> Documents()
    {
        var random = new Random(3);
        var words = new[] { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" };
        var docs = new List<CorpusDocument>();
        for (var i = 0; i < 200; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, random.Next(3, 40)).Select(_ => words[random.Next(words.Length)])) + $" #{i}";
            docs.Add(Doc($"doc{i}", i % 2 == 0 ? "even" : "odd", text));
        }
        return docs;
    }

    [Fact]
    public void WritesShardsDocumentsAndAConsistentManifest()
    {
        var docs = Documents();
        docs.Add(Doc("dup-of-0", "odd", Encoding.UTF8.GetString(docs[0].Text)));
        docs.Add(Doc("empty", "odd", ""));
        var output = Path.Combine(_dir, "corpus");
        var corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
        {
            Sources = [new ListSource("test", docs)], OutputDirectory = output, VocabSize = 300, ValidationFraction = 0.2, Seed = 7,
        });

        var m = corpus.Manifest;
        Assert.Equal(1, m.DuplicateDocumentsRemoved);
        Assert.Equal(1, m.EmptyDocumentsRemoved);
        Assert.Equal(200, m.Train.Documents + m.Validation.Documents);
        Assert.InRange(m.Validation.Documents, 20, 60);
        Assert.Equal(["even", "odd"], m.Domains.Select(d => d.Domain));
        Assert.Equal(m.Train.Tokens, m.Domains.Sum(d => d.Train.Tokens));
        Assert.Equal(m.Validation.Bytes, m.Domains.Sum(d => d.Validation.Bytes));

        var tokenizer = corpus.LoadTokenizer();
        var eot = tokenizer.EndOfTextId!.Value;
        foreach (var split in new[] { CorpusSplits.Train, CorpusSplits.Validation })
        {
            using var shard = new TokenShardReader(corpus.ShardPath(split));
            var records = corpus.DocumentsOf(split);
            Assert.Equal(records.Count, shard.DocumentCount);
            Assert.Equal(split == CorpusSplits.Train ? m.Train.Tokens : m.Validation.Tokens, shard.TokenCount);
            for (var i = 0; i < records.Count; i++)
            {
                var ids = shard.DocumentTokens(i);
                Assert.Equal(eot, ids[^1]);
                var original = docs.First(d => d.Id == records[i].Id);
                Assert.Equal(original.Text, tokenizer.Decode(ids[..^1]));
                Assert.Equal(original.Domain, records[i].Domain);
                Assert.Equal(ids.Length, records[i].Tokens);
            }
        }
    }

    [Fact]
    public void SplitDependsOnContentAndSeedNotOrder()
    {
        string SplitOf(IEnumerable<CorpusDocument> docs, ulong seed, string name)
        {
            var corpus = CorpusPreparation.Prepare(new CorpusPreparationOptions
            {
                Sources = [new ListSource("test", docs)], OutputDirectory = Path.Combine(_dir, name), VocabSize = 270, Seed = seed, ValidationFraction = 0.3,
            });
            return string.Join(',', corpus.DocumentsOf(CorpusSplits.Validation).Select(d => d.Id).Order());
        }
        var docs = Documents();
        var a = SplitOf(docs, 1, "a");
        Assert.Equal(a, SplitOf(Enumerable.Reverse(docs), 1, "b"));
        Assert.NotEqual(a, SplitOf(docs, 2, "c"));
    }

    [Fact]
    public void EmptyCorpusIsAnErrorAndWritesNothing()
    {
        var output = Path.Combine(_dir, "empty");
        var e = Assert.Throws<CorpusFormatException>(() => CorpusPreparation.Prepare(new CorpusPreparationOptions
        {
            Sources = [new ListSource("nothing-here", [Doc("e", "x", "")])], OutputDirectory = output,
        }));
        Assert.Contains("nothing-here", e.Message);
        Assert.Contains("no documents", e.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void BadInputLeavesThePreviousCorpusIntactAndNoTemporaryFiles()
    {
        var output = Path.Combine(_dir, "keep");
        CorpusPreparation.Prepare(new CorpusPreparationOptions { Sources = [new ListSource("good", Documents())], OutputDirectory = output, VocabSize = 270 });
        var before = Directory.GetFiles(output).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

        var userDir = Path.Combine(_dir, "user");
        Directory.CreateDirectory(userDir);
        File.WriteAllText(Path.Combine(userDir, "a.jsonl"), "{\"text\": \"fine\"}\n{\"txt\": \"typo\"}\n");
        var e = Assert.Throws<CorpusFormatException>(() => CorpusPreparation.Prepare(new CorpusPreparationOptions
        {
            Sources = [new ListSource("good", Documents()), new UserCorpus(userDir)], OutputDirectory = output, VocabSize = 270,
        }));
        Assert.Contains("a.jsonl:2", e.Message);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(output).Select(Path.GetFileName).Order());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(output, name)));
        Assert.Equal(["keep", "user"], Directory.GetDirectories(_dir).Select(Path.GetFileName).Order());
    }
}
