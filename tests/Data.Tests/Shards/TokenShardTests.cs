using System.Buffers.Binary;
using Orleans.MoE.Data.Shards;

namespace Orleans.MoE.Data.Tests.Shards;

public sealed class TokenShardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData(1000, TokenDtype.UInt16, 2)]
    [InlineData(65536, TokenDtype.UInt16, 2)]
    [InlineData(65537, TokenDtype.UInt32, 4)]
    public void WritesAndReadsDocumentsBack(int vocab, TokenDtype dtype, int elementSize)
    {
        var random = new Random(vocab);
        var documents = Enumerable.Range(0, 20).Select(i => Enumerable.Range(0, random.Next(0, 50)).Select(_ => random.Next(vocab)).ToArray()).ToList();
        documents[3] = [vocab - 1, 0];
        var path = PathOf("a.tokens");
        TokenShardWriter.Write(path, vocab, documents);

        using var reader = new TokenShardReader(path);
        Assert.Equal(dtype, reader.Dtype);
        Assert.Equal(vocab, reader.VocabSize);
        Assert.Equal(documents.Count, reader.DocumentCount);
        var total = documents.Sum(d => d.Length);
        Assert.Equal(total, reader.TokenCount);
        Assert.Equal(TokenShardHeader.Size + total * elementSize + (documents.Count + 1) * 8, new FileInfo(path).Length);
        for (var d = 0; d < documents.Count; d++) Assert.Equal(documents[d], reader.DocumentTokens(d));

        var all = documents.SelectMany(d => d).Select(t => (long)t).ToArray();
        var copy = new long[all.Length - 5];
        reader.CopyTokens(5, copy);
        Assert.Equal(all[5..], copy);
    }

    [Fact]
    public void OutOfVocabularyTokenIsRefusedAndNothingIsWritten()
    {
        var path = PathOf("bad.tokens");
        var writer = new TokenShardWriter(path, 100);
        writer.AddDocument([1, 2, 3]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddDocument([4, 100]));
        Assert.Contains("document 1", e.Message);
        Assert.Contains("100", e.Message);
        writer.Dispose();
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void AbandonedWriteLeavesThePreviousShardIntact()
    {
        var path = PathOf("keep.tokens");
        TokenShardWriter.Write(path, 50, [[1, 2, 3]]);
        var before = File.ReadAllBytes(path);
        using (var writer = new TokenShardWriter(path, 50))
        {
            writer.AddDocument([7, 7, 7, 7]);
            // no Complete(): simulates a crash or an exception half way
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    private string Corrupted(Action<byte[]> corrupt, Func<byte[], byte[]>? resize = null)
    {
        var path = PathOf($"{Guid.NewGuid():N}.tokens");
        TokenShardWriter.Write(path, 300, [[1, 2, 3], [4, 5]]);
        var bytes = File.ReadAllBytes(path);
        corrupt(bytes);
        File.WriteAllBytes(path, resize is null ? bytes : resize(bytes));
        return path;
    }

    [Fact]
    public void WrongMagicNamesTheFile()
    {
        var path = Corrupted(b => b[0] = (byte)'X');
        var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void WrongVersionNamesTheFile()
    {
        var path = Corrupted(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 7));
        var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("version 7", e.Message);
    }

    [Fact]
    public void TruncatedFileNamesTheFile()
    {
        var path = Corrupted(_ => { }, b => b[..^3]);
        var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void WrongTokenCountNamesTheFile()
    {
        var path = Corrupted(b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(16), 4));
        var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void CorruptIndexNamesTheFile()
    {
        // The index follows the 5 uint16 tokens: entries 0, 3, 5. Make the middle one exceed the count.
        var path = Corrupted(b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(TokenShardHeader.Size + 10 + 8), 9));
        var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("index", e.Message);
    }

    [Fact]
    public void ShortOrMissingFileNamesTheFile()
    {
        var path = PathOf("short.tokens");
        File.WriteAllBytes(path, "MOETOKS"u8.ToArray());
        Assert.Contains(path, Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path)).Message);
        var missing = PathOf("missing.tokens");
        Assert.Contains(missing, Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(missing)).Message);
    }

    [Theory]
    [InlineData(300, 2)]
    [InlineData(70_000, 4)]
    public void TheHeaderRecordsTheLargestTokenId(int vocab, int elementSize)
    {
        var path = PathOf("max.tokens");
        TokenShardWriter.Write(path, vocab, [[3, vocab - 7, 1], [], [vocab / 2]]);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(TokenShardHeader.CurrentVersion, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(vocab - 7, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(28)));
        using var reader = new TokenShardReader(path);
        Assert.Equal(vocab - 7, reader.MaxTokenId);
        Assert.Equal(elementSize, reader.Header.ElementSize);

        var empty = PathOf("empty.tokens");
        TokenShardWriter.Write(empty, vocab, [[]]);
        using var none = new TokenShardReader(empty);
        Assert.Equal(-1, none.MaxTokenId);
    }

    /// <summary>A version-1 shard: the same bytes with version 1 and the largest-id field reserved (0).</summary>
    private string VersionOne(string name, int vocab, IEnumerable<int[]> documents)
    {
        var path = PathOf(name);
        TokenShardWriter.Write(path, vocab, documents);
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(28), 0);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(300)]
    [InlineData(70_000)]
    public void AVersionOneShardIsScannedForItsLargestId(int vocab)
    {
        var random = new Random(5);
        var documents = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, 100).Select(_ => random.Next(vocab / 2)).ToArray()).ToList();
        documents[17][42] = vocab - 3;
        using var reader = new TokenShardReader(VersionOne("v1.tokens", vocab, documents));
        Assert.Null(reader.Header.MaxTokenId);
        Assert.Equal(vocab - 3, reader.MaxTokenId);
        Assert.Equal(documents[17], reader.DocumentTokens(17));
    }

    [Fact]
    public void IdsBeyondTheHeaderVocabularyAreRefusedNamingTheFileTheIdAndTheVocabulary()
    {
        foreach (var path in new[] { PathOf("v2.tokens"), VersionOne("v1.tokens", 300, [[5, 250, 7]]) })
        {
            if (!File.Exists(path)) TokenShardWriter.Write(path, 300, [[5, 250, 7]]);
            var bytes = File.ReadAllBytes(path);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(24), 100);   // a header that claims a smaller vocabulary
            File.WriteAllBytes(path, bytes);
            var before = DirectoryTree.Hash(_dir);
            var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
            Assert.Equal($"{path}: holds token id 250 but its header gives a vocabulary of 100 (ids 0 to 99): " +
                         "the header is wrong or the shard was written with another tokenizer; rebuild it", e.Message);
            Assert.Equal(before, DirectoryTree.Hash(_dir));
        }
    }

    [Fact]
    public void ANegativeLargestIdWithTokensIsCorrupt()
    {
        var path = Corrupted(b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(28), -1));
        var e = Assert.Throws<TokenShardFormatException>(() => new TokenShardReader(path));
        Assert.Contains("largest token id as -1 for 5 tokens: corrupt", e.Message);
    }
}
