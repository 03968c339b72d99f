namespace Orleans.MoE.Config.Tests;

public class ReadingTests
{
    private const string Json = """
        {
          // a comment, and trailing commas
          "name": "sample",
          "section": { "size": 4, "label": "main", },
          "rate": 0.5,
          "seed": 18446744073709551615,
          "shade": "dark_blue",
          "tags": ["a", "b c"],
          "limits": { "x": 1 },
          "lr": 1e-3,
          "fallback": { "label": "given" },
        }
        """;

    private const string Yaml = """
        # the same sample in YAML
        name: sample
        section:
          size: 4
          label: main
        rate: .5
        seed: 18446744073709551615
        shade: dark_blue
        tags:
          - a
          - b c
        limits: { x: 1 }
        lr: 1.0e-3
        fallback:
          label: given
        """;

    [Fact]
    public void JsonAndYamlReadToEqualRecords()
    {
        var json = SampleConfig.Schema.Parse(Json, "sample.json");
        var yaml = SampleConfig.Schema.Parse(Yaml, "sample.yaml");
        Assert.Equal("sample", json.Name);
        Assert.Equal(new SampleSection { Size = 4, Label = "main" }, json.Section);
        Assert.Equal(0.5, json.Rate);
        Assert.Equal(ulong.MaxValue, json.Seed);
        Assert.Equal(Shade.DarkBlue, json.Shade);
        Assert.Equal(["a", "b c"], json.Tags);
        Assert.Equal(1e-3, json.LearningRate);
        Assert.Equal(json.Limits, yaml.Limits);
        // A record holding a ValueList (and, here, a dictionary compared above) is equal by value.
        Assert.Equal(json, yaml with { Limits = json.Limits });
    }

    [Fact]
    public void AbsentFieldsTakeTheRecordsDefaultsAndNullCountsAsAbsent()
    {
        var c = SampleConfig.Schema.Parse("""{ "name": "n", "section": { "size": 1 }, "rate": null, "count": null }""", "s.json");
        Assert.Equal(3, c.Count);
        Assert.Null(c.Rate);
        Assert.Equal(Shade.Light, c.Shade);
        Assert.Empty(c.Tags);
        Assert.Equal(new SampleDefaults { Size = 7, Label = "fallback" }, c.Fallback);
        var yaml = SampleConfig.Schema.Parse("name: n\nsection: { size: 1 }\nrate:\ncount: ~\n", "s.yml");
        Assert.Equal(c, yaml);
    }

    [Fact]
    public void APartlyGivenPopulatedSectionKeepsItsOtherDefaults()
    {
        var c = SampleConfig.Schema.Parse("""{ "name": "n", "section": { "size": 1 }, "fallback": { "label": "x" } }""", "s.json");
        Assert.Equal(new SampleDefaults { Size = 7, Label = "x" }, c.Fallback);
        // The default instance is not shared between reads.
        Assert.Equal(new SampleDefaults { Size = 7, Label = "fallback" }, SampleConfig.Schema.Parse("""{ "name": "n", "section": { "size": 1 } }""", "s.json").Fallback);
    }

    [Fact]
    public void YamlScalarsAreTypedByTheCoreSchema()
    {
        var c = SampleConfig.Schema.Parse("name: 'true'\nsection: { size: 0x10 }\ncount: 0o17\nlr: 1.\n", "s.yaml");
        Assert.Equal("true", c.Name);
        Assert.Equal(16, c.Section.Size);
        Assert.Equal(15, c.Count);
        Assert.Equal(1.0, c.LearningRate);
        var quoted = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Parse("name: n\nsection: { size: \"4\" }\nrate: .inf\n", "s.yaml"));
        Assert.Equal(["section.size", "rate"], quoted.Problems.Select(p => p.Path));
        Assert.Contains("got the string \"4\"", quoted.Message);
        Assert.Contains("expected a number, got the string \".inf\"", quoted.Message);
    }

    [Fact]
    public void TheFormatFollowsTheExtension()
    {
        Assert.Equal(ConfigFormat.Yaml, ConfigFormats.Of("a/b.YML"));
        Assert.Equal(ConfigFormat.Yaml, ConfigFormats.Of("b.yaml"));
        Assert.Equal(ConfigFormat.Json, ConfigFormats.Of("b.json"));
        Assert.Equal(ConfigFormat.Json, ConfigFormats.Of("the embedded demo"));
        // YAML text under a .json name is JSON that does not parse.
        var e = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Parse("name: n\n", "s.json"));
        Assert.Contains("not valid JSON", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void DerivedPropertiesAreNotFields()
    {
        Assert.DoesNotContain("double_count", SampleConfig.Schema.FieldNames);
        Assert.Contains("lr", SampleConfig.Schema.FieldNames);
        var e = Assert.Throws<ConfigException>(() => SampleConfig.Schema.Parse("""{ "name": "n", "section": { "size": 1 }, "double_count": 6 }""", "s.json"));
        Assert.Equal("double_count", Assert.Single(e.Problems).Path);
    }

    [Fact]
    public void ValueListsCompareByTheirItems()
    {
        ValueList<string> a = ["x", "y"];
        var b = new ValueList<string>(new List<string> { "x", "y" });
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, (ValueList<string>)["y", "x"]);
        Assert.Same(ValueList<string>.Empty, (ValueList<string>)[]);
    }

    [Fact]
    public void DetectionPicksTheKindWhoseFieldsTheDocumentUses()
    {
        var other = new ConfigSchema<SampleSection>("section", "a section file");
        var kinds = new Dictionary<string, IConfigSchema> { ["sample"] = SampleConfig.Schema, ["section"] = other };
        var problems = new ConfigProblems();
        Assert.Equal("sample", ConfigKinds.Detect(ConfigDocument.Parse("""{ "name": "n", "count": 1, "label": "l" }""", ConfigFormat.Json, problems), kinds));
        Assert.Equal("section", ConfigKinds.Detect(ConfigDocument.Parse("size: 1\nlabel: l\n", ConfigFormat.Yaml, problems), kinds));
        Assert.Null(ConfigKinds.Detect(ConfigDocument.Parse("""{ "unrelated": 1 }""", ConfigFormat.Json, problems), kinds));
        Assert.Null(ConfigKinds.Detect(ConfigDocument.Parse("""[1]""", ConfigFormat.Json, problems), kinds));
        Assert.Empty(problems.List);
    }
}
