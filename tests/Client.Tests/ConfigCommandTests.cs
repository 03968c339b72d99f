using System.Reflection;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Client.Tests;

/// <summary>`moe config check` and `moe config show`, and the demo experiment embedded in the client.</summary>
public sealed class ConfigCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("moe-config-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Output, string Error) Moe(params string[] arguments)
    {
        using var moe = new MoeProcess(arguments);
        Assert.True(moe.WaitForExit(TimeSpan.FromMinutes(1)), "moe did not finish");
        return (moe.Process.ExitCode, moe.Output, moe.Error);
    }

    private static string Experiments(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "experiments", file);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"experiments/{file} not found above the test directory");
    }

    [Fact]
    public void ShowPrintsTheResolvedExperimentAsYamlThatReadsBackEqual()
    {
        var file = Experiments("disco-demo.json");
        var (code, output, error) = Moe("config", "show", file);
        Assert.True(code == 0, error);
        Assert.StartsWith($"# {file}: the resolved experiment file", output);
        Assert.Contains("  norm_eps: 1E-05", output);           // a default filled in
        var yaml = Path.Combine(_root, "demo.yaml");
        File.WriteAllText(yaml, output);
        Assert.Equal(DisCoExperimentLoader.LoadFile(file), DisCoExperimentLoader.LoadFile(yaml));

        var (checkCode, checkOutput, _) = Moe("config", "check", yaml);
        Assert.Equal(0, checkCode);
        Assert.Equal($"{yaml}: a valid experiment file", checkOutput.Trim());
    }

    [Theory]
    [InlineData("tiny-moe.model.json", "model configuration")]
    [InlineData("tiny.training.json", "training configuration")]
    [InlineData("disco-e4-larger.json", "experiment file")]
    public void CheckTellsTheKindOfFileFromItsFields(string file, string description)
    {
        var (code, output, error) = Moe("config", "check", Experiments(file));
        Assert.True(code == 0, error);
        Assert.EndsWith($"a valid {description}", output.Trim());
    }

    [Fact]
    public void CheckListsEveryProblemOfAMalformedYamlFileWithExitCode2()
    {
        var file = Path.Combine(_root, "bad.training.yaml");
        File.WriteAllText(file, "batch_size: 10\nmicro_batches: 3\ncontext_length: 64\nsteps: 100\nschedule: { kind: cosin }\noptimizer: { lerning_rate: 5e-4 }\n");
        var (code, output, error) = Moe("config", "check", file);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"error: {file}: 4 problems in the training configuration:", error);
        Assert.Contains("  - schedule.kind: 'cosin' is not allowed; use one of constant, cosine, warmup_stable_decay; did you mean 'cosine'?", error);
        Assert.Contains("  - optimizer.lerning_rate: unknown field; allowed here: lr, beta1, beta2, eps, weight_decay; did you mean \"lr\"?", error);
        Assert.Contains("  - optimizer.lr: missing; set the peak learning rate (e.g. 5e-4)", error);
        Assert.Contains("  - micro_batches: 3 does not divide batch_size (10)", error);

        File.WriteAllText(file, "batch_size: 10\nschedule:\n  kind: cosine\n   warmup_steps: 3\n");
        var (parseCode, _, parseError) = Moe("config", "check", file);
        Assert.Equal(2, parseCode);
        Assert.Contains("$: not valid YAML (line 4, column ", parseError);
    }

    [Fact]
    public void AFileOfNoKnownKindAsksForKind()
    {
        var file = Path.Combine(_root, "odd.json");
        File.WriteAllText(file, """{ "unrelated": 1 }""");
        var (code, _, error) = Moe("config", "check", file);
        Assert.Equal(2, code);
        Assert.Contains("give --kind model, training, experiment", error);

        var (asModel, _, modelError) = Moe("config", "check", "--kind", "model", Experiments("tiny.training.json"));
        Assert.Equal(2, asModel);
        Assert.Contains("problems in the model configuration", modelError);
        Assert.Contains("  - batch_size: unknown field; allowed here: vocab_size, d_model", modelError);
        Assert.Contains("  - vocab_size: missing; set the vocabulary size", modelError);
    }

    [Fact]
    public void TheEmbeddedDemoExperimentIsTheRepositorysFileAndLoads()
    {
        using var stream = Assembly.Load("moe").GetManifestResourceStream("Orleans.MoE.Client.disco-demo.json")!;
        var embedded = new StreamReader(stream).ReadToEnd();
        Assert.Equal(File.ReadAllText(Experiments("disco-demo.json")), embedded);
        var config = DisCoExperimentLoader.Parse(embedded, "the embedded demo experiment (experiments/disco-demo.json)");
        Assert.Equal("disco-demo", config.Name);
        Assert.Equal(DisCoExperimentLoader.LoadFile(Experiments("disco-demo.json")), config);
    }
}
