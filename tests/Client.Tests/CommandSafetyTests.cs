using Orleans.MoE.Data.Shards;

namespace Orleans.MoE.Client.Tests;

/// <summary>A small prepared corpus (user text files, a 300-token vocabulary) and a model file that fits it, shared by one class.</summary>
public sealed class PreparedTexts : IDisposable
{
    public PreparedTexts()
    {
        Texts = Directory.CreateDirectory(System.IO.Path.Combine(Root, "texts")).FullName;
        var words = new[] { "alpha", "beta", "gamma", "delta", "kernel", "struct", "lord", "spake", "unto", "define" };
        var random = new Random(1);
        for (var i = 0; i < 30; i++)
            File.WriteAllText(System.IO.Path.Combine(Texts, $"doc{i:D2}.txt"), string.Join(' ', Enumerable.Range(0, 150).Select(_ => words[(i % 2) * 5 + random.Next(5)])));
        Corpus = System.IO.Path.Combine(Root, "corpus");
        using var prepare = new MoeProcess("prepare", "--corpus", Texts, "--out", Corpus, "--vocab", "300");
        if (!prepare.WaitForExit(TimeSpan.FromMinutes(2)) || prepare.Process.ExitCode != 0)
            throw new InvalidOperationException("moe prepare failed: " + prepare.Output + prepare.Error);
        Model = ModelFile("model.json", vocab: 300);
        Training = System.IO.Path.Combine(Root, "training.json");
        File.WriteAllText(Training, """
            { "batch_size": 4, "context_length": 16, "steps": 4, "schedule": { "kind": "constant" },
              "optimizer": { "lr": 1e-3 }, "seed": 1, "checkpoint": { "every": 2 }, "threads": 1 }
            """);
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("moe-cli-safety-").FullName;

    public string Texts { get; }

    public string Corpus { get; }

    public string Model { get; }

    public string Training { get; }

    public string ModelFile(string name, int vocab)
    {
        var path = System.IO.Path.Combine(Root, name);
        File.WriteAllText(path, $$"""
            { "vocab_size": {{vocab}}, "d_model": 16, "num_layers": 1, "max_seq_len": 16, "attention": { "num_heads": 2 },
              "layers": { "dense": { "hidden_dim": 32 }, "ffn": { "kind": "mlp" } }, "init": { "seed": 1 } }
            """);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// The commands as a user runs them: what they refuse (exit 2, one readable line, nothing changed on
/// disk) and how they recover (a damaged checkpoint, a killed checkpoint write).
/// </summary>
public sealed class CommandSafetyTests(PreparedTexts data) : IClassFixture<PreparedTexts>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-cli-case-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static (int ExitCode, string Output, string Error) Moe(params string[] arguments)
    {
        using var moe = new MoeProcess(arguments);
        Assert.True(moe.WaitForExit(TimeSpan.FromMinutes(3)), "moe did not finish: " + moe.Output + moe.Error);
        return (moe.Process.ExitCode, moe.Output, moe.Error);
    }

    /// <summary>Runs a command that must be refused: exit 2, the given error line, and every watched tree unchanged.</summary>
    private static string Refused(string[] arguments, params string[] watched)
    {
        var before = watched.Select(DirectoryTree.Hash).ToList();
        var (code, output, error) = Moe(arguments);
        Assert.True(code == 2, $"exit {code}: {output}{error}");
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain("(Parameter '", error);
        Assert.DoesNotContain("Actual value was", error);
        Assert.DoesNotContain("Orleans.MoE.", error);
        Assert.DoesNotContain("clustering: features", output);   // refused before any work
        Assert.Equal(before, watched.Select(DirectoryTree.Hash).ToList());
        return error.Trim();
    }

    private string Notes()
    {
        var notes = Directory.CreateDirectory(PathOf("notes")).FullName;
        File.WriteAllText(Path.Combine(notes, "thesis.tex"), "years of work");
        return notes;
    }

    private string[] Train(string runDirectory, string? model = null, params string[] more) =>
        ["train", "--model", model ?? data.Model, "--training", data.Training, "--data", data.Corpus, "--run-dir", runDirectory, .. more];

    [Fact]
    public void PrepareAndClusterRefuseADirectoryOfOtherFilesOrTheirInputAndReplaceOnlyWithForce()
    {
        var notes = Notes();
        Assert.Equal($"error: {notes}: is not empty and was not written as a prepared corpus (moe prepare) (it holds thesis.tex); " +
                     "choose a new or empty directory, or pass --force to replace it",
            Refused(["prepare", "--corpus", data.Texts, "--out", notes, "--vocab", "300"], _dir, data.Root));
        Assert.Equal($"error: {data.Texts}: is also an input; write a prepared corpus (moe prepare) to another directory",
            Refused(["prepare", "--corpus", data.Texts, "--out", data.Texts, "--vocab", "300", "--force"], _dir, data.Root));
        Assert.Equal($"error: {data.Corpus}: is also an input; write a clustering of a corpus (moe cluster) to another directory",
            Refused(["cluster", "--corpus", data.Corpus, "--out", data.Corpus, "--clusters", "2"], _dir, data.Root));
        Assert.StartsWith($"error: {notes}: is not empty and was not written as a clustering of a corpus (moe cluster)",
            Refused(["cluster", "--corpus", data.Corpus, "--out", notes, "--clusters", "2"], _dir, data.Root));

        Assert.Equal(0, Moe("cluster", "--corpus", data.Corpus, "--out", notes, "--clusters", "2", "--force").ExitCode);
        Assert.False(File.Exists(Path.Combine(notes, "thesis.tex")));
        Assert.Equal(0, Moe("cluster", "--corpus", data.Corpus, "--out", notes, "--clusters", "2").ExitCode);   // its own output: replaced
        Assert.Equal($"error: {notes}: holds a clustering of a corpus (moe cluster), not a prepared corpus (moe prepare); " +
                     "choose a new or empty directory, or pass --force to replace it",
            Refused(["prepare", "--corpus", data.Texts, "--out", notes, "--vocab", "300"], _dir, data.Root));
    }

    [Fact]
    public void TrainAndTheExperimentsRefuseDirectoriesThatHoldSomethingElse()
    {
        var notes = Notes();
        Assert.Equal($"error: {notes}: is not empty and was not written as a training run (moe train) (it holds thesis.tex); choose a new or empty directory",
            Refused(Train(notes), _dir, data.Root));
        Assert.Contains($"contains the input {Path.Combine(data.Corpus, "train.tokens")}", Refused(Train(data.Corpus), _dir, data.Root));
        Assert.Equal($"error: {data.Corpus}: holds a prepared corpus (moe prepare), not an MoE-DisCo experiment (moe run); choose a new or empty directory",
            Refused(["demo", "--dir", data.Corpus], _dir, data.Root));
        Assert.StartsWith($"error: {notes}: is not empty and was not written as an MoE-DisCo experiment (moe run)",
            Refused(["demo", "--dir", notes], _dir, data.Root));
        var run = PathOf("run");
        Assert.Equal(0, Moe(Train(run)).ExitCode);
        Assert.Equal($"error: {run}: holds a training run (moe train), not a prepared corpus (moe prepare); choose a new or empty directory, or pass --force to replace it",
            Refused(["prepare", "--corpus", data.Texts, "--out", run, "--vocab", "300"], _dir, data.Root));
    }

    [Fact]
    public void TokenIdsBeyondAVocabularyAreRefusedNamingTheFileTheIdAndTheVocabulary()
    {
        var shard = PathOf("wrong-header.tokens");
        TokenShardWriter.Write(shard, 300, [Enumerable.Range(0, 300).Select(i => i % 280).ToArray()]);
        var bytes = File.ReadAllBytes(shard);
        BitConverter.GetBytes(100).CopyTo(bytes, 24);   // the header's vocabulary, below the ids
        File.WriteAllBytes(shard, bytes);
        var args = Train(PathOf("run-a"));
        args[Array.IndexOf(args, data.Corpus)] = shard;
        Assert.Equal($"error: {shard}: holds token id 279 but its header gives a vocabulary of 100 (ids 0 to 99): the header is wrong or the shard was written with another tokenizer; rebuild it",
            Refused(args, _dir, data.Root));

        var small = data.ModelFile("small.json", vocab: 100);
        Assert.Equal($"error: {Path.Combine(data.Corpus, "train.tokens")}: holds token id 299, but the model's vocab_size is 100 (ids 0 to 99); " +
                     "set vocab_size to at least 300 in the model file, or give data made with the model's tokenizer",
            Refused(Train(PathOf("run-b"), small), _dir, data.Root));
        Assert.False(Directory.Exists(PathOf("run-b")));
    }

    [Fact]
    public void ResumeTakesTheNewestCheckpointThatVerifiesAndCleansUpAfterAKilledWrite()
    {
        var run = PathOf("run");
        var (code, output, error) = Moe(Train(run));
        Assert.True(code == 0, output + error);
        var checkpoints = Path.Combine(run, "checkpoints");
        var damaged = Path.Combine(checkpoints, "step-00000004", "model.safetensors");
        var bytes = File.ReadAllBytes(damaged);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(damaged, bytes);
        var stale = Directory.CreateDirectory(Path.Combine(checkpoints, ".step-00000006.0123456789abcdef0123456789abcdef.tmp")).FullName;

        (code, output, error) = Moe("train", "--run-dir", run, "--data", data.Corpus, "--resume");
        Assert.True(code == 0, output + error);
        Assert.Contains($"warning: the checkpoint of step 4 is damaged and was skipped: {damaged}: content hash", error);
        Assert.Contains($"warning: resuming from the checkpoint of step 2 instead; the damaged one was moved to {checkpoints}/step-00000004.damaged (not deleted)", error);
        Assert.Contains("resumed from", output);
        Assert.True(File.Exists(Path.Combine(checkpoints, "step-00000004.damaged", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(checkpoints, "step-00000004", "manifest.json")));   // trained again
        Assert.False(Directory.Exists(stale));

        // Every checkpoint damaged: refused, nothing moved.
        foreach (var step in new[] { "step-00000002", "step-00000004" })
            File.WriteAllText(Path.Combine(checkpoints, step, "manifest.json"), "{ cut short");
        Assert.Contains("manifest.json: not valid JSON", Refused(["train", "--run-dir", run, "--data", data.Corpus, "--resume"], _dir));
    }

    [Fact]
    public void ArgumentErrorsReadLikeTheOthersAndComeBeforeAnyWork()
    {
        Assert.Equal("error: the number of clusters must be at least 1, not 0",
            Refused(["cluster", "--corpus", data.Corpus, "--out", PathOf("c"), "--clusters", "0"], _dir, data.Root));
        Assert.Equal("error: the number of restarts must be at least 1, not 0",
            Refused(["cluster", "--corpus", data.Corpus, "--out", PathOf("c"), "--clusters", "2", "--restarts", "0"], _dir, data.Root));
        Assert.Equal("error: the validation fraction must be in [0, 1), not 2",
            Refused(["prepare", "--corpus", data.Texts, "--out", PathOf("p"), "--validation-fraction", "2"], _dir, data.Root));
        Assert.Equal("error: a vocabulary of 10 tokens is too small: it needs the 256 byte tokens and 1 special token(s), at least 257",
            Refused(["prepare", "--corpus", data.Texts, "--out", PathOf("p"), "--vocab", "10"], _dir, data.Root));
        Assert.Equal($"error: Cannot parse argument 'fast' for option '--metric' as one of the allowed values. Did you mean one of the following? Cosine Euclidean{Environment.NewLine}" +
                     "(`moe cluster --help` lists the options)",
            Refused(["cluster", "--corpus", data.Corpus, "--out", PathOf("c"), "--clusters", "2", "--metric", "fast"], _dir, data.Root));
        Assert.StartsWith("error: Cannot parse argument 'two' for option '--clusters' as a whole number.",
            Refused(["cluster", "--corpus", data.Corpus, "--out", PathOf("c"), "--clusters", "two"], _dir, data.Root));
    }
}
