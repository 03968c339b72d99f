namespace Orleans.MoE.Config.Tests;

public class ProblemTests
{
    private static ConfigException Rejects(string text, string origin)
    {
        var e = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Parse(text, origin));
        Assert.StartsWith($"{origin}: {e.Problems.Count} problem", e.Message);
        Assert.Contains("in the sample configuration:", e.Message);
        foreach (var p in e.Problems) Assert.Contains($"  - {p.Path}: {p.Message}", e.Message);
        return e;
    }

    [Fact]
    public void EveryProblemIsListedAtOnceInDocumentOrderThenTheMissingThenTheRules()
    {
        var e = Rejects("""
            {
              "count": "3",
              "section": { "size": 1000, "colour": "red" },
              "shade": "dark_blu",
              "tags": ["a", 2, null],
              "seed": -1,
              "lerning_rate": 0.1,
              "limits": { "x": 1.5 },
              "rate": [1]
            }
            """, "bad.json");
        Assert.Equal(
            ["count", "section.colour", "shade", "tags[1]", "tags[2]", "seed", "lerning_rate", "limits.x", "rate", "name"],
            e.Problems.Select(p => p.Path));
        var m = e.Problems.ToDictionary(p => p.Path, p => p.Message);
        Assert.Equal("expected an integer, got the string \"3\"", m["count"]);
        Assert.Equal("unknown field; allowed here: size, label", m["section.colour"]);
        Assert.Equal("'dark_blu' is not allowed; use one of light, dark_blue; did you mean 'dark_blue'?", m["shade"]);
        Assert.Equal("expected a string, got the number 2", m["tags[1]"]);
        Assert.Equal("expected a string, got null", m["tags[2]"]);
        Assert.Equal("expected an integer from 0 to 18446744073709551615, got the number -1", m["seed"]);
        Assert.Equal("unknown field; allowed here: name, section, count, rate, seed, shade, tags, limits, lr, fallback; did you mean \"lr\"?", m["lerning_rate"]);
        Assert.Equal("expected an integer, got the number 1.5", m["limits.x"]);
        Assert.Equal("expected a number, got a list", m["rate"]);
        Assert.Equal("missing; name the sample", m["name"]);
        // The rules run on what could be read; section.size exceeds 10 x count, but count is unusable, so
        // that rule is skipped rather than judged against a placeholder.
        Assert.DoesNotContain("section.size", m.Keys);
    }

    [Fact]
    public void ARuleOnAFieldWithAProblemIsNotReportedAgain()
    {
        var e = Rejects("""{ "name": "n", "section": { "size": 0 }, "count": 0 }""", "bad.json");
        // count 0: "not positive"; section.size depends on count and is skipped; its own rule reports 0.
        Assert.Equal(["count", "section.size"], e.Problems.Select(p => p.Path));
        Assert.Equal("0 is not positive; use e.g. 4", e.Problems[1].Message);
    }

    [Fact]
    public void AMissingSectionIsReportedOnceNotFieldByField()
    {
        var e = Rejects("""{ "name": "n" }""", "bad.json");
        var p = Assert.Single(e.Problems);
        Assert.Equal("section", p.Path);
        Assert.Equal("missing; give an object (fields: size (required), label)", p.Message);
        var wrong = Rejects("""{ "name": "n", "section": 4 }""", "bad.json");
        Assert.Equal("expected an object (fields: size (required), label), got the number 4", Assert.Single(wrong.Problems).Message);
    }

    [Fact]
    public void MalformedJsonIsReportedWithItsLineAndColumn()
    {
        var e = Rejects("{\n  \"name\": \"n\",\n  \"section\": { \"size\": 4 }\n  \"count\": 3\n}\n", "bad.json");
        var p = Assert.Single(e.Problems);
        Assert.Equal("$", p.Path);
        Assert.StartsWith("not valid JSON (line 4, column 3): ", p.Message);
        Assert.DoesNotContain("BytePositionInLine", p.Message);
        // Columns count characters, not UTF-8 bytes.
        var wide = Rejects("{ \"name\": \"äöü\" \"count\": 3 }", "bad.json");
        Assert.StartsWith("not valid JSON (line 1, column 17)", Assert.Single(wide.Problems).Message);
    }

    [Fact]
    public void MalformedYamlIsReportedWithItsLineAndColumn()
    {
        var e = Rejects("name: n\nsection:\n  size: 4\n label: x\n", "bad.yaml");
        var p = Assert.Single(e.Problems);
        Assert.Equal("$", p.Path);
        Assert.StartsWith("not valid YAML (line 4, column ", p.Message);
        var unclosed = Rejects("name: n\ntags: [a, b\ncount: 3\n", "bad.yaml");
        Assert.StartsWith("not valid YAML (after line 2, column 9)", Assert.Single(unclosed.Problems).Message);
    }

    [Theory]
    [InlineData("", "bad.json", "the file is empty")]
    [InlineData("  \n", "bad.yaml", "the file is empty")]
    [InlineData("name: a\n---\nname: b\n", "bad.yaml", "holds 2 YAML documents")]
    [InlineData("[1, 2]", "bad.json", "expected an object (fields: name (required), section (required), count")]
    [InlineData("- 1\n- 2\n", "bad.yaml", "at the top level, got a list")]
    [InlineData("just text", "bad.yaml", "at the top level, got the string \"just text\"")]
    public void AFileThatIsNotAnObjectIsOneProblem(string text, string origin, string message)
    {
        var p = Assert.Single(Rejects(text, origin).Problems);
        Assert.Equal("$", p.Path);
        Assert.Contains(message, p.Message);
    }

    [Theory]
    [InlineData("""{ "name": "n", "section": { "size": 1 }, "rate": 1e400 }""", "s.json")]
    [InlineData("name: n\nsection: { size: 1 }\nrate: 1e400\n", "s.yaml")]
    [InlineData("name: n\nsection: { size: 1 }\nrate: -.inf\n", "s.yaml")]
    public void ANumberBeyondDoubleIsRefused(string text, string origin)
    {
        var p = Assert.Single(Rejects(text, origin).Problems);
        Assert.Equal("rate", p.Path);
        Assert.StartsWith("expected a number, got ", p.Message);
    }

    [Fact]
    public void AFieldGivenTwiceIsAProblem()
    {
        var json = Rejects("""{ "name": "n", "section": { "size": 1, "size": 2 } }""", "bad.json");
        Assert.Equal("section.size", Assert.Single(json.Problems).Path);
        Assert.Contains("given twice", json.Problems[0].Message);
        var yaml = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Parse("name: n\nname: m\n", "bad.yaml"));
        Assert.Contains("line 2", Assert.Single(yaml.Problems).Message);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        var e = Assert.Throws<ConfigException>(() => SampleConfig.Schema.LoadFile("/nonexistent/sample.yaml"));
        Assert.StartsWith("/nonexistent/sample.yaml: 1 problem", e.Message);
        Assert.Equal("file not found; give the path of a sample file", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void RecordsBuiltInCodeAreValidatedByTheSameRules()
    {
        var c = new SampleConfig { Name = "n", Section = new SampleSection { Size = -1 }, Count = 0 };
        Assert.Equal(["count", "section.size"], SampleConfig.Schema.Problems(c).Select(p => p.Path));
        var e = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Validate(c, "built in code"));
        Assert.StartsWith("built in code: 2 problems in the sample configuration", e.Message);
        Assert.Empty(SampleConfig.Schema.Problems(c with { Count = 1, Section = new SampleSection { Size = 1 } }));
    }

    [Fact]
    public void ContextRulesJoinTheFilesOwn()
    {
        var e = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Parse("""{ "name": "n", "section": { "size": 1 }, "count": 0 }""", "s.json",
            alsoCheck: (c, p) => p.Check(c.Name.Length > 3, "name", "is too short for this context")));
        Assert.Equal(["count", "name"], e.Problems.Select(p => p.Path));
    }

    [Fact]
    public void ASectionViewPrefixesPathsAndSeesItsParentsProblems()
    {
        var problems = new ConfigProblems();
        problems.Add("model.layers", "unreadable");
        var model = problems.Under("model");
        model.Check(false, "layers.ffn.kind", "skipped: its parent has a problem");
        model.Check(false, "d_model", "reported", "layers");
        model.Check(false, "num_layers", "reported under the prefix");
        Assert.Equal(["model.layers", "model.num_layers"], problems.List.Select(p => p.Path));
        Assert.True(model.HasProblem("layers.ffn"));
        Assert.False(problems.HasProblem("layers"));
    }

    [Theory]
    [InlineData("lerning_rate", "lr")]      // the alias (learning_rate, from the C# name) is near
    [InlineData("topK", "top_k")]          // camelCase is snake_cased first
    [InlineData("Top_K", "top_k")]
    [InlineData("sede", "seed")]            // a transposition is one edit
    [InlineData("top_kk", "top_k")]
    [InlineData("experts", null)]
    [InlineData("x", null)]
    public void UnknownNamesSuggestTheNearestAllowedOne(string given, string? expected)
    {
        (string, string)[] allowed = [("lr", "learning_rate"), ("top_k", "top_k"), ("seed", "seed"), ("steps", "steps")];
        Assert.Equal(expected, NearMiss.Suggest(given, allowed));
    }
}
