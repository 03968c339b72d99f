using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Torch.Tests;

/// <summary>The rule for directories that commands and jobs write: see <see cref="OutputDirectory"/>.</summary>
public sealed class OutputDirectoryTests : IDisposable
{
    private static readonly OutputKind Corpus = new("test-corpus", "a test corpus (moe test)", ["manifest.json", "train.tokens"], ReplacedAsAWhole: true);
    private static readonly OutputKind Run = new("test-run", "a test run (moe run)", ["metrics.jsonl"], ReplacedAsAWhole: false);

    private readonly string _root = Directory.CreateTempSubdirectory("moe-output-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string PathOf(string name) => Path.Combine(_root, name);

    private string WithFiles(string name, params string[] files)
    {
        var directory = Directory.CreateDirectory(PathOf(name)).FullName;
        foreach (var f in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(directory, f))!);
            File.WriteAllText(Path.Combine(directory, f), "content of " + f);
        }
        return directory;
    }

    private static void Write(OutputDirectory output, string file) => output.Replace(d => File.WriteAllText(Path.Combine(d, file), "new"));

    [Fact]
    public void ANewDirectoryIsWrittenWithItsMarker()
    {
        var target = PathOf("new");
        Write(OutputDirectory.Claim(target, Corpus), "train.tokens");
        Assert.Equal("new", File.ReadAllText(Path.Combine(target, "train.tokens")));
        Assert.Equal("test-corpus", OutputDirectory.KindOf(target)!.Name);
        Assert.Equal(Corpus.Description, OutputDirectory.KindOf(target)!.Description);
    }

    [Fact]
    public void AnEmptyDirectoryOrOneOfTheSameKindIsReplaced()
    {
        var empty = Directory.CreateDirectory(PathOf("empty")).FullName;
        Write(OutputDirectory.Claim(empty, Corpus), "a");
        Write(OutputDirectory.Claim(empty, Corpus), "b");   // marked by the first write
        Assert.False(File.Exists(Path.Combine(empty, "a")));
        Assert.True(File.Exists(Path.Combine(empty, "b")));
    }

    [Fact]
    public void ADirectoryOfUnrelatedFilesIsRefusedAndLeftAsItWas()
    {
        var documents = WithFiles("documents", "thesis.tex", "notes/today.txt", ".hidden");
        var before = DirectoryTree.Hash(_root);
        var e = Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(documents, Corpus));
        Assert.Equal($"{documents}: is not empty and was not written as a test corpus (moe test) (it holds .hidden, notes/, thesis.tex); " +
                     "choose a new or empty directory, or pass --force to replace it", e.Message);
        Assert.Equal(before, DirectoryTree.Hash(_root));
    }

    [Fact]
    public void ADirectoryOfAnotherKindIsRefusedNamingWhatItHolds()
    {
        var run = PathOf("run");
        OutputDirectory.Claim(run, Run).Open();
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "{}");
        var before = DirectoryTree.Hash(_root);
        var e = Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(run, Corpus));
        Assert.Equal($"{run}: holds a test run (moe run), not a test corpus (moe test); choose a new or empty directory, or pass --force to replace it", e.Message);
        Assert.Equal(before, DirectoryTree.Hash(_root));
    }

    [Fact]
    public void ForceReplacesAnythingOnlyForKindsReplacedAsAWhole()
    {
        var documents = WithFiles("documents", "thesis.tex");
        Write(OutputDirectory.Claim(documents, Corpus, force: true), "train.tokens");
        Assert.False(File.Exists(Path.Combine(documents, "thesis.tex")));

        var other = WithFiles("other", "thesis.tex");
        var before = DirectoryTree.Hash(_root);
        var e = Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(other, Run, force: true));
        Assert.EndsWith("; choose a new or empty directory", e.Message);
        Assert.Equal(before, DirectoryTree.Hash(_root));
    }

    [Fact]
    public void ADirectoryWrittenBeforeMarkersIsRecognisedByItsEntries()
    {
        var legacy = WithFiles("legacy", "manifest.json", "train.tokens", "tokenizer.json");
        Write(OutputDirectory.Claim(legacy, Corpus), "train.tokens");
        Assert.Equal("test-corpus", OutputDirectory.KindOf(legacy)!.Name);

        var run = WithFiles("old-run", "metrics.jsonl", "checkpoints/step-00000001/manifest.json");
        OutputDirectory.Claim(run, Run).Open();
        Assert.Equal("test-run", OutputDirectory.KindOf(run)!.Name);
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "step-00000001", "manifest.json")));   // adopted, not replaced

        var partial = WithFiles("partial", "manifest.json");   // one of the two entries only
        Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(partial, Corpus));
    }

    [Fact]
    public void AnUnreadableMarkerProvesNothing()
    {
        var directory = WithFiles("broken", "train.tokens", "manifest.json");
        File.WriteAllText(Path.Combine(directory, OutputDirectory.MarkerFile), "{ not json");
        var before = DirectoryTree.Hash(_root);
        var e = Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(directory, Corpus));
        Assert.Contains($"its marker {OutputDirectory.MarkerFile} cannot be read", e.Message);
        Assert.Equal(before, DirectoryTree.Hash(_root));
    }

    [Fact]
    public void AnOutputThatIsInsideOrContainsAnInputIsRefused()
    {
        var input = WithFiles("input", "a.txt");
        var before = DirectoryTree.Hash(_root);
        Assert.Equal($"{input}: is also an input; write a test corpus (moe test) to another directory",
            Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(input + "/", Corpus, force: true, inputs: [input])).Message);
        var inside = Path.Combine(input, "out");
        Assert.Equal($"{inside}: lies inside the input {input}; write a test corpus (moe test) outside it",
            Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(inside, Corpus, inputs: [input])).Message);
        Assert.Equal($"{_root}: contains the input {Path.Combine(input, "a.txt")}, which writing a test corpus (moe test) here would delete; choose a directory outside it",
            Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(_root, Corpus, force: true, inputs: [Path.Combine(input, "a.txt")])).Message);
        Assert.Equal(before, DirectoryTree.Hash(_root));

        // A sibling whose name starts like the input's is not inside it.
        OutputDirectory.Claim(input + "-out", Corpus, inputs: [input]);
    }

    [Fact]
    public void AFileIsNotADirectory()
    {
        var file = PathOf("file.txt");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file, not a directory", Assert.Throws<OutputDirectoryException>(() => OutputDirectory.Claim(file, Corpus, force: true)).Message);
    }

    [Fact]
    public void ErrorTextDropsTheDecorationsOfArgumentErrors()
    {
        Assert.Equal("the number of clusters must be at least 1", ErrorText.Of(new ArgumentOutOfRangeException("Clusters", 0, "the number of clusters must be at least 1")));
        Assert.Equal("bad value", ErrorText.Of(new ArgumentException("bad value", "job")));
        Assert.Equal("header is truncated", ErrorText.ProblemOf(new IOException("/data/a.tokens: header is truncated"), "/data/a.tokens"));
        Assert.Equal("/other: header is truncated", ErrorText.ProblemOf(new IOException("/other: header is truncated"), "/data/a.tokens"));
    }
}
