using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Orleans.MoE.Deploy.Tests;

/// <summary>An overlay of k8s/ rendered by `kubectl kustomize` (the Makefile installs kubectl), as YAML text and as objects.</summary>
internal sealed class RenderedManifests
{
    public static readonly string[] Overlays = ["cpu-only", "mixed-gpu"];

    private RenderedManifests(string overlay, string yaml, IReadOnlyList<YamlMappingNode> objects)
    {
        Overlay = overlay;
        Yaml = yaml;
        Objects = objects;
    }

    public string Overlay { get; }

    public string Yaml { get; }

    public IReadOnlyList<YamlMappingNode> Objects { get; }

    private static readonly Dictionary<string, Lazy<RenderedManifests>> Renders =
        Overlays.ToDictionary(o => o, o => new Lazy<RenderedManifests>(() => RenderNow(o)));

    /// <summary>The overlay rendered once per test run (the objects are only read).</summary>
    public static RenderedManifests Render(string overlay) => Renders[overlay].Value;

    private static RenderedManifests RenderNow(string overlay)
    {
        var directory = Path.Combine(RepositoryRoot, "k8s", "overlays", overlay);
        var (exitCode, output, errors) = Run("kubectl", ["kustomize", directory], stdin: null);
        Assert.True(exitCode == 0, $"kubectl kustomize {directory} failed ({exitCode}):\n{errors}");
        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        var objects = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
        return new RenderedManifests(overlay, output, objects);
    }

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Objects.Where(o => Text(o, "kind") == kind);

    public YamlMappingNode Single(string kind, string name) =>
        OfKind(kind).SingleOrDefault(o => Text(o, "metadata", "name") == name)
        ?? throw new Xunit.Sdk.XunitException($"{Overlay}: no {kind} named {name} in the rendered manifests");

    /// <summary>The scalar at a path of mapping keys, or null.</summary>
    public static string? Text(YamlNode node, params string[] path) => At(node, path) is YamlScalarNode s ? s.Value : null;

    public static YamlNode? At(YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next)) return null;
            current = next;
        }
        return current;
    }

    public static IEnumerable<YamlMappingNode> Items(YamlNode node, params string[] path) =>
        At(node, path) is YamlSequenceNode sequence ? sequence.Children.OfType<YamlMappingNode>() : [];

    /// <summary>The directory that holds Orleans.MoE.sln, found from the test's own directory.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.MoE.sln"))) return directory.FullName;
        throw new InvalidOperationException($"no Orleans.MoE.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a tool to completion (at most two minutes) and returns its exit code, standard output and standard error.</summary>
    public static (int ExitCode, string Output, string Errors) Run(string program, IEnumerable<string> arguments, string? stdin)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"cannot run {program} ({e.Message}); `make test` installs it (make k8s-deps)");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
                process.StandardInput.Close();
            }
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} did not finish within 2 minutes");
            }
            return (process.ExitCode, output.Result, errors.Result);
        }
    }
}
