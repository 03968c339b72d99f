using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Orleans.MoE.Config.Tests;

/// <summary>A record shaped like the project's configurations: every kind of field the layer has to read.</summary>
public sealed record SampleConfig
{
    [Description("name the sample")]
    public required string Name { get; init; }

    public required SampleSection Section { get; init; }

    public int Count { get; init; } = 3;

    public double? Rate { get; init; }

    public ulong Seed { get; init; }

    public Shade Shade { get; init; } = Shade.Light;

    public ValueList<string> Tags { get; init; } = [];

    public Dictionary<string, int>? Limits { get; init; }

    /// <summary>A field whose file name differs from the property's (as training's lr).</summary>
    [JsonPropertyName("lr")]
    public double LearningRate { get; init; } = 0.1;

    /// <summary>A section given in part keeps the defaults of the enclosing record's instance for the rest.</summary>
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public SampleDefaults Fallback { get; init; } = new() { Size = 7, Label = "fallback" };

    /// <summary>Derived, not a field of the file.</summary>
    public int DoubleCount => 2 * Count;

    public static ConfigSchema<SampleConfig> Schema { get; } = new("sample configuration", "a sample file", Validate);

    private static void Validate(SampleConfig c, ConfigProblems p)
    {
        p.Check(c.Count > 0, "count", $"{c.Count} is not positive");
        p.Check(c.Section.Size <= c.Count * 10, "section.size", $"{c.Section.Size} exceeds 10 x count ({c.Count})", "count");
        SampleSection.Validate(c.Section, p.Under("section"));
    }
}

public sealed record SampleSection
{
    [Description("set the size (e.g. 4)")]
    public required int Size { get; init; }

    public string Label { get; init; } = "";

    public static void Validate(SampleSection s, ConfigProblems p) =>
        p.Check(s.Size > 0, "size", $"{s.Size} is not positive; use e.g. 4");
}

/// <summary>A section without required fields, as populated sections are (System.Text.Json requires them even there).</summary>
public sealed record SampleDefaults
{
    public int Size { get; init; }

    public string Label { get; init; } = "";
}

public enum Shade
{
    Light,
    DarkBlue,
}
