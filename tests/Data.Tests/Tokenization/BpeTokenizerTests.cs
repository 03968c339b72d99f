using System.Text;
using Orleans.MoE.Data.Tokenization;

namespace Orleans.MoE.Data.Tests.Tokenization;

public class BpeTokenizerTests
{
    private static BpeTokenizer TrainOnRandomText(int seed, int vocabSize)
    {
        var random = new Random(seed);
        var trainer = new BpeTrainer(vocabSize, minFrequency: 2);
        for (var i = 0; i < 300; i++) trainer.Add(RandomText.Next(random, 200));
        trainer.Add("the quick brown fox jumps over the lazy dog; the dog didn't mind. " + string.Concat(Enumerable.Repeat("the ", 50)));
        return trainer.Train();
    }

    [Fact]
    public void TrainsTheHandCheckedMerges()
    {
        // Words: "ab" x1, " ab" x2, " abc" x1. Pair counts: (a,b)=4, (' ',a)=3, (b,c)=1.
        // 1st merge (a,b) -> 256; then (' ',ab)=3, (ab,c)=1: 2nd merge (' ',ab) -> 257; then (' ab',c) -> 258.
        var trainer = new BpeTrainer(vocabSize: 260, minFrequency: 1);
        trainer.Add("ab ab ab abc");
        var tokenizer = trainer.Train();

        Assert.Equal([((int)'a', (int)'b'), ((int)' ', 256), (257, (int)'c')], tokenizer.Merges);
        Assert.Equal(259, tokenizer.EndOfTextId);
        Assert.Equal(260, tokenizer.VocabSize);
        Assert.Equal([256, 258, 257, 'd'], tokenizer.Encode("ab abc abd"));
    }

    [Fact]
    public void StopsAtMinimumFrequency()
    {
        var trainer = new BpeTrainer(vocabSize: 1000, minFrequency: 2);
        trainer.Add("ab ab ab abc");
        // (a,b) and (' ',ab) are seen 4 and 3 times; (' ab',c) once, below the minimum.
        Assert.Equal(2, trainer.Train().Merges.Count);
    }

    [Fact]
    public void AppliesMergesInRankOrderNotLeftToRight()
    {
        var tokens = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList<byte[]?>();
        tokens.Add("bc"u8.ToArray()); // 256
        tokens.Add("ab"u8.ToArray()); // 257
        tokens.Add("abc"u8.ToArray()); // 258
        // Rank 0 is (b, c): "abc" becomes [a, bc] and then [abc] by rank 2; merging left to right
        // first would give [ab, c], which no merge joins.
        var tokenizer = new BpeTokenizer(tokens, [('b', 'c'), ('a', 'b'), ('a', 256)]);
        Assert.Equal([258], tokenizer.Encode("abc"));
        Assert.Equal([257, 'd'], tokenizer.Encode("abd"));
        Assert.Equal([258, 257, 'b'], tokenizer.Encode("abcabb"));
    }

    [Fact]
    public void RandomUnicodeRoundTrips()
    {
        var tokenizer = TrainOnRandomText(seed: 1, vocabSize: 600);
        Assert.True(tokenizer.Merges.Count > 200, $"only {tokenizer.Merges.Count} merges were learned");
        var random = new Random(2);
        long tokens = 0, bytes = 0;
        for (var i = 0; i < 300; i++)
        {
            var text = RandomText.Next(random, random.Next(0, 400));
            var ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.DecodeToString(ids));
            tokens += ids.Length;
            bytes += Encoding.UTF8.GetByteCount(text);
        }
        Assert.True(tokens < bytes, "merges should make the text shorter than one token per byte");
    }

    [Fact]
    public void RandomBytesRoundTrip()
    {
        var tokenizer = TrainOnRandomText(seed: 3, vocabSize: 500);
        var random = new Random(4);
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(0, 600)];
            random.NextBytes(bytes);
            var words = "don't stop 42 ĀĂ "u8;
            if (i % 3 == 0 && bytes.Length >= words.Length) words.CopyTo(bytes);
            Assert.Equal(bytes, tokenizer.Decode(tokenizer.Encode(bytes)));
        }
    }

    [Fact]
    public void LongWordsMergeAsShortWordsDo()
    {
        var tokenizer = TrainOnRandomText(seed: 5, vocabSize: 600);
        var table = tokenizer.MergeTableForTests;
        var random = new Random(6);
        for (var i = 0; i < 200; i++)
        {
            // One long pre-token: letters only, drawn from a small alphabet so that merges apply.
            var word = Encoding.UTF8.GetBytes(new string(Enumerable.Range(0, random.Next(2, 300)).Select(_ => "theodg"[random.Next(6)]).ToArray()));
            var viaScan = word.Select(b => (int)b).ToArray();
            var viaHeap = (int[])viaScan.Clone();
            var n1 = table.ApplyByScan(viaScan);
            var n2 = table.ApplyByHeap(viaHeap);
            Assert.Equal(viaScan[..n1], viaHeap[..n2]);
        }
    }

    [Fact]
    public void EncodesTheSameFromManyThreads()
    {
        var tokenizer = TrainOnRandomText(seed: 7, vocabSize: 500);
        var texts = Enumerable.Range(0, 64).Select(i => RandomText.Next(new Random(i), 300)).ToArray();
        var expected = texts.Select(t => new BpeTokenizer(
            Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.TokenBytes).ToList(), tokenizer.Merges).Encode(t)).ToArray();
        var actual = new int[texts.Length][];
        Parallel.For(0, texts.Length, i => actual[i] = tokenizer.Encode(texts[i]));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void UnknownIdsAreRefusedWhenDecoding()
    {
        var tokenizer = TrainOnRandomText(seed: 8, vocabSize: 300);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([1, 100000]));
        Assert.Contains("100000", e.Message);
    }
}
