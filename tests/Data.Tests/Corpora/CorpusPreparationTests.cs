using System.Text;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

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

    private sealed class UnreadSource : ICorpusSource
    {
        public string Name => "unread";
        public IEnumerable<CorpusDocument> ReadDocuments() => throw new InvalidOperationException("the source was read before the options were checked");
    }

    [Fact]
    public void AnOutputThatHoldsSomethingElseIsRefusedBeforeTheCorpusIsRead()
    {
        var output = Directory.CreateDirectory(Path.Combine(_dir, "photos")).FullName;
        File.WriteAllText(Path.Combine(output, "holiday.jpg"), "not a corpus");
        var before = DirectoryTree.Hash(_dir);
        var options = new CorpusPreparationOptions { Sources = [new UnreadSource()], OutputDirectory = output, VocabSize = 300 };
        var e = Assert.Throws<OutputDirectoryException>(() => CorpusPreparation.Prepare(options));
        Assert.Equal($"{output}: is not empty and was not written as a prepared corpus (moe prepare) (it holds holiday.jpg); " +
                     "choose a new or empty directory, or pass --force to replace it", e.Message);
        var small = Assert.Throws<ArgumentOutOfRangeException>(() => CorpusPreparation.Prepare(
            new CorpusPreparationOptions { Sources = [new UnreadSource()], OutputDirectory = Path.Combine(_dir, "new"), VocabSize = 10 }));
        Assert.StartsWith("a vocabulary of 10 tokens is too small: it needs the 256 byte tokens and 1 special token(s), at least 257", ErrorText.Of(small));
        Assert.Equal(before, DirectoryTree.Hash(_dir));

        // A user corpus may not be (or hold) the output: replacing it would delete the corpus.
        var texts = Directory.CreateDirectory(Path.Combine(_dir, "texts")).FullName;
        File.WriteAllText(Path.Combine(texts, "a.txt"), "alpha beta");
        before = DirectoryTree.Hash(_dir);
        Assert.Contains("is also an input", Assert.Throws<OutputDirectoryException>(() => CorpusPreparation.Prepare(
            new CorpusPreparationOptions { Sources = [new UserCorpus(texts)], OutputDirectory = texts, VocabSize = 300, Force = true })).Message);
        Assert.Equal(before, DirectoryTree.Hash(_dir));
    }

    [Fact]
    public void APreparedCorpusIsReplacedByTheNextPreparationAndForceReplacesAnything()
    {
        var output = Path.Combine(_dir, "corpus");
        CorpusPreparationOptions Options(string directory, bool force = false) =>
            new() { Sources = [new ListSource("test", Documents())], OutputDirectory = directory, VocabSize = 300, Force = force };
        var options = Options(output);
        CorpusPreparation.Prepare(options);
        Assert.Equal(CorpusPreparation.Output.Name, OutputDirectory.KindOf(output)!.Name);
        File.WriteAllText(Path.Combine(output, "stale.txt"), "left by hand");
        CorpusPreparation.Prepare(options);
        Assert.False(File.Exists(Path.Combine(output, "stale.txt")));

        var other = Directory.CreateDirectory(Path.Combine(_dir, "other")).FullName;
        File.WriteAllText(Path.Combine(other, "x.bin"), "x");
        CorpusPreparation.Prepare(Options(other, force: true));
        Assert.False(File.Exists(Path.Combine(other, "x.bin")));
        Assert.True(File.Exists(Path.Combine(other, CorpusPreparation.ManifestFile)));
    }
}
