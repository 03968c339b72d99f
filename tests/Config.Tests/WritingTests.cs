using System.Text.Json.Nodes;

namespace Orleans.MoE.Config.Tests;

public class WritingTests
{
    private static readonly SampleConfig Sample = new()
    {
        Name = "sample",
        Section = new SampleSection { Size = 4, Label = "main" },
        Rate = 1e-5,
        Seed = 42,
        Shade = Shade.DarkBlue,
        Tags = ["a", "b c"],
        Limits = new Dictionary<string, int> { ["x"] = 1 },
    };

    [Fact]
    public void TheCanonicalFormSortsKeysAndFillsInDefaults()
    {
        var canonical = SampleConfig.Schema.ToCanonicalJson(SampleConfig.Schema.Parse("""{ "section": { "size": 1 }, "name": "n" }""", "s.json"));
        var keys = JsonNode.Parse(canonical)!.AsObject().Select(p => p.Key).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal(["count", "fallback", "lr", "name", "section", "seed", "shade", "tags"], keys);   // nulls (rate, limits) are left out
        Assert.Equal(["label", "size"], JsonNode.Parse(canonical)!["section"]!.AsObject().Select(p => p.Key));
        Assert.Contains("\"count\": 3", canonical);
    }

    [Fact]
    public void FilesThatDifferOnlyInFormHaveOneCanonicalForm()
    {
        var a = SampleConfig.Schema.Parse("""
            {
              // a comment
              "name": "n", "section": { "size": 1 }, "count": 3
            }
            """, "a.json");
        var b = SampleConfig.Schema.Parse("""{"section":{"label":"","size":1},"name":"n","shade":"light"}""", "b.json");
        var c = SampleConfig.Schema.Parse("# YAML\nsection:\n  size: 1\nname: n\n", "c.yaml");
        var canonical = SampleConfig.Schema.ToCanonicalJson(a);
        Assert.Equal(canonical, SampleConfig.Schema.ToCanonicalJson(b));
        Assert.Equal(canonical, SampleConfig.Schema.ToCanonicalJson(c));
        Assert.NotEqual(canonical, SampleConfig.Schema.ToCanonicalJson(a with { Count = 4 }));
    }

    [Fact]
    public void WrittenJsonAndYamlReadBackEqual()
    {
        Assert.Equal(Sample, SampleConfig.Schema.Parse(SampleConfig.Schema.ToJson(Sample), "s.json") with { Limits = Sample.Limits });
        var yaml = SampleConfig.Schema.ToYaml(Sample, "a header\nof two lines");
        Assert.StartsWith("# a header\n# of two lines\nname: sample\nsection:\n  size: 4\n  label: main\n", yaml.ReplaceLineEndings("\n"));
        Assert.Contains("rate: 1E-05", yaml);
        Assert.Contains("shade: dark_blue", yaml);
        var back = SampleConfig.Schema.Parse(yaml, "s.yaml");
        Assert.Equal(Sample, back with { Limits = Sample.Limits });
        Assert.Equal(Sample.Limits, back.Limits);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("123")]
    [InlineData("1e5")]
    [InlineData("0x1F")]
    [InlineData(".inf")]
    [InlineData("a: b")]
    [InlineData("# not a comment")]
    [InlineData("- item")]
    [InlineData(" padded ")]
    [InlineData("quote \" and \\ backslash")]
    [InlineData("line\nbreak")]
    [InlineData("runs/disco-demo")]
    [InlineData("ünïcode")]
    public void StringsThatWouldReadAsSomethingElseAreQuoted(string name)
    {
        var value = Sample with { Name = name, Tags = [name] };
        var back = SampleConfig.Schema.Parse(SampleConfig.Schema.ToYaml(value), "s.yaml");
        Assert.Equal(name, back.Name);
        Assert.Equal([name], back.Tags);
    }

    [Fact]
    public void PlainWordsStayPlain()
    {
        var yaml = SampleConfig.Schema.ToYaml(Sample with { Name = "disco-demo", Tags = ["runs/corpus", "two words"] });
        Assert.Contains("name: disco-demo", yaml);
        Assert.Contains("- runs/corpus", yaml);
        Assert.Contains("- two words", yaml);
        Assert.Contains("tags: []", SampleConfig.Schema.ToYaml(Sample with { Tags = [] }));
    }
}
