using System.Text.Json.Nodes;

namespace Orleans.MoE.Config;

/// <summary>A kind of configuration file, without its record type: what `moe config` and file-kind detection need.</summary>
public interface IConfigSchema
{
    /// <summary>What the file holds, as messages say it: "model configuration", "experiment file".</summary>
    string Description { get; }

    /// <summary>The fields of the file's top level, as spelt in files.</summary>
    IReadOnlyList<string> FieldNames { get; }

    /// <summary>Parses and validates a file's text (JSON or YAML by the extension of <paramref name="origin"/>); throws <see cref="ConfigException"/>.</summary>
    object Parse(string text, string origin);

    /// <summary>The value as YAML with every field, defaults included, in declaration order.</summary>
    string ToYaml(object value, string? headerComment = null);
}

/// <summary>
/// One kind of configuration file (model, training, experiment, ...): the record it is read into,
/// its validation rules and how messages name it. Files are JSON or YAML (by extension); reading one
/// lists every problem at once, each under its field path, in a <see cref="ConfigException"/>.
/// </summary>
public sealed class ConfigSchema<T> : IConfigSchema where T : class
{
    private readonly Action<T, ConfigProblems>? _validate;

    /// <param name="description">What the file holds, for messages: "model configuration".</param>
    /// <param name="fileHint">What to give when the file is missing: "a model file (see experiments/*.model.json)".</param>
    /// <param name="validate">The rules beyond the types (ranges, fields that must agree); it records problems and throws nothing.</param>
    public ConfigSchema(string description, string fileHint, Action<T, ConfigProblems>? validate = null)
    {
        Description = description;
        FileHint = fileHint;
        _validate = validate;
        FieldNames = ConfigValues.FieldsOf(typeof(T)).Select(p => p.Name).ToList();
    }

    public string Description { get; }

    public string FileHint { get; }

    public IReadOnlyList<string> FieldNames { get; }

    /// <summary>Reads and validates a file; <paramref name="alsoCheck"/> adds rules that need context (the model a training file is for).</summary>
    public T LoadFile(string path, Action<T, ConfigProblems>? alsoCheck = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(path, Description, [new ConfigProblem("$", $"file not found; give the path of {FileHint}")]);
        }
        return Parse(text, path, ConfigFormats.Of(path), alsoCheck);
    }

    /// <summary>Parses and validates text; <paramref name="origin"/> names it in messages, and its extension picks the format unless <paramref name="format"/> is given.</summary>
    public T Parse(string text, string origin, ConfigFormat? format = null, Action<T, ConfigProblems>? alsoCheck = null)
    {
        var problems = new ConfigProblems();
        var document = ConfigDocument.Parse(text, format ?? ConfigFormats.Of(origin), problems);
        return Read(document, origin, alsoCheck, problems);
    }

    /// <summary>Reads and validates a tree that is already parsed (a section of another file, a manifest); the tree is not changed.</summary>
    public T Read(JsonNode? document, string origin, Action<T, ConfigProblems>? alsoCheck = null) =>
        Read(document?.DeepClone(), origin, alsoCheck, new ConfigProblems());

    object IConfigSchema.Parse(string text, string origin) => Parse(text, origin);

    /// <summary>Every broken rule of a value built in code (empty when it is usable).</summary>
    public IReadOnlyList<ConfigProblem> Problems(T value, Action<T, ConfigProblems>? alsoCheck = null)
    {
        var problems = new ConfigProblems();
        _validate?.Invoke(value, problems);
        alsoCheck?.Invoke(value, problems);
        return problems.List;
    }

    /// <summary>Throws a <see cref="ConfigException"/> listing every broken rule of a value built in code.</summary>
    public void Validate(T value, string origin, Action<T, ConfigProblems>? alsoCheck = null)
    {
        var problems = Problems(value, alsoCheck);
        if (problems.Count > 0) throw new ConfigException(origin, Description, problems);
    }

    public JsonObject ToNode(T value) => ConfigJson.ToNode(value);


    /// <summary>Indented JSON with every field, in declaration order; it reads back to an equal record.</summary>
    public string ToJson(T value) => ConfigJson.Write(ToNode(value));

    /// <summary>
    /// The canonical form: every field (defaults filled in), keys sorted at every depth. Two files that
    /// differ only in comments, formatting, field order, syntax (JSON or YAML) or defaults spelt out
    /// have the same canonical form.
    /// </summary>
    public string ToCanonicalJson(T value) => ConfigJson.Write(ConfigJson.Sorted(ToNode(value))!);

    /// <summary>The value as YAML with every field, in declaration order.</summary>
    public string ToYaml(T value, string? headerComment = null) => YamlDocumentWriter.Write(ToNode(value), headerComment);

    string IConfigSchema.ToYaml(object value, string? headerComment) => ToYaml((T)value, headerComment);

    private T Read(JsonNode? document, string origin, Action<T, ConfigProblems>? alsoCheck, ConfigProblems problems)
    {
        // A parse error leaves no document; an unusable top level leaves no value. Either ends here.
        var value = problems.HasProblem("$") ? null : (T?)ConfigShapeCheck.Read(document, typeof(T), problems);
        if (value is not null)
        {
            _validate?.Invoke(value, problems);
            alsoCheck?.Invoke(value, problems);
        }
        problems.ThrowIfAny(origin, Description);
        return value!;
    }
}
