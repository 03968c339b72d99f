using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Health;
using Orleans.MoE.Silo.Hosting;
using Orleans.MoE.Silo.Security;
using YamlDotNet.RepresentationModel;
using static Orleans.MoE.Deploy.Tests.RenderedManifests;

namespace Orleans.MoE.Deploy.Tests;

/// <summary>
/// A container's environment as the manifests set it (its env, and the ConfigMaps of its envFrom), and
/// the check that every variable is one the silo reads: configuration keys (<c>A__B</c> = <c>A:B</c>)
/// are the silo's constants, or bind to its options classes through the real configuration binder
/// with unknown keys refused, so a misspelt key is a problem and not a silently ignored setting.
/// </summary>
internal static partial class SiloEnvironment
{
    /// <summary>What a pod field reference stands for in the check (a pod's address must parse as one; 192.0.2.0/24 is reserved for documentation).</summary>
    private static string Placeholder(string? fieldPath) => fieldPath == "status.podIP" ? "192.0.2.10" : $"pod-{fieldPath}";

    public static Dictionary<string, string> Of(RenderedManifests manifests, YamlMappingNode container)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in Items(container, "envFrom"))
        {
            var name = Text(from, "configMapRef", "name") ?? throw new Xunit.Sdk.XunitException("envFrom other than a configMapRef");
            if (At(manifests.Single("ConfigMap", name), "data") is YamlMappingNode data)
                foreach (var (key, value) in data.Children) environment[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value ?? "";
        }
        foreach (var variable in Items(container, "env"))
            environment[Text(variable, "name")!] = Text(variable, "value") ?? Placeholder(Text(variable, "valueFrom", "fieldRef", "fieldPath"));
        return environment;
    }

    /// <summary>The environment as the silo's configuration sees it (environment variables with <c>__</c> for <c>:</c>).</summary>
    public static IConfiguration Configuration(IReadOnlyDictionary<string, string> environment) =>
        new ConfigurationBuilder().AddInMemoryCollection(
            environment.Where(e => e.Key.Contains("__", StringComparison.Ordinal)).Select(e => KeyValuePair.Create(e.Key.Replace("__", ":"), (string?)e.Value))).Build();

    /// <summary>The OpenTelemetry SDK's standard variables (the specification's names) that the manifests set.</summary>
    private static readonly string[] OpenTelemetryVariables =
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"];

    /// <summary>Variables read as such: the silo's (MOE_CLUSTER, the password variables), Orleans' Kubernetes hosting's, OpenTelemetry's.</summary>
    public static IReadOnlySet<string> PlainVariables { get; } =
        Constants(typeof(SiloConfiguration), typeof(ClusterTlsSettings), typeof(KubernetesHostingOptions))
            .Where(v => VariableName().IsMatch(v)).Concat(OpenTelemetryVariables).ToHashSet(StringComparer.Ordinal);

    /// <summary>Configuration keys the silo reads one by one (<see cref="SiloConfiguration"/>, <see cref="ClusterTlsSettings"/>).</summary>
    public static IReadOnlySet<string> Keys { get; } =
        Constants(typeof(SiloConfiguration), typeof(ClusterTlsSettings)).Where(v => v.Contains(':'))
            .Except([SiloConfiguration.Membership, SiloConfiguration.Metadata]).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Sections bound to options classes (unknown keys refused) or parsed as the device pools.</summary>
    private static readonly string[] Sections = [MoeSiloOptions.Section, SiloHealthOptions.Section, SiloConfiguration.Membership, SiloConfiguration.Metadata];

    /// <summary>Every variable the silo would not read, or would refuse, each naming the variable and the fix.</summary>
    /// <param name="declaresPools">a silo's environment (at least one pool); false for a client's</param>
    public static List<string> Problems(IReadOnlyDictionary<string, string> environment, bool declaresPools = true)
    {
        var problems = new List<string>();
        foreach (var name in environment.Keys)
        {
            if (name.Contains("__", StringComparison.Ordinal))
            {
                var key = name.Replace("__", ":");
                if (!Keys.Contains(key) && !Sections.Any(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)))
                    problems.Add($"{name}: '{key}' is not a configuration key the silo reads (see SiloConfiguration, ClusterTlsSettings and the options classes)");
            }
            else if (!PlainVariables.Contains(name))
                problems.Add($"{name}: not a variable the silo, Orleans' Kubernetes hosting or OpenTelemetry reads");
        }
        var config = Configuration(environment);
        Bind<MoeSiloOptions>(config, MoeSiloOptions.Section, problems);
        Bind<SiloHealthOptions>(config, SiloHealthOptions.Section, problems);
        Bind<ClusterMembershipOptions>(config, SiloConfiguration.Membership, problems);
        foreach (var key in new[] { SiloConfiguration.SiloPort, SiloConfiguration.GatewayPort })
            if (config[key] is { } port && !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out _)) problems.Add($"{key}: '{port}' is not a port");
        if (config[SiloConfiguration.AdvertisedAddress] is { } address && !IPAddress.TryParse(address, out _))
            problems.Add($"{SiloConfiguration.AdvertisedAddress}: '{address}' is not an IP address");
        if (config[SiloConfiguration.KubernetesHosting] is { } hosting && !bool.TryParse(hosting, out _))
            problems.Add($"{SiloConfiguration.KubernetesHosting}: '{hosting}' is not true or false");
        var metadata = Metadata(config);
        foreach (var key in metadata.Keys.Where(k => !k.StartsWith("pool", StringComparison.Ordinal)))
            problems.Add($"{SiloConfiguration.Metadata}:{key}: not a pool field (the silo adds {DevicePoolMetadata.CoresKey} and {DevicePoolMetadata.HostKey} itself)");
        try
        {
            if (DevicePoolMetadata.Parse(metadata).Count == 0 && declaresPools) problems.Add($"{SiloConfiguration.Metadata}:pool0_class: missing; a silo declares at least one pool");
        }
        catch (SiloMetadataException e)
        {
            problems.AddRange(e.Problems.Select(p => $"{SiloConfiguration.Metadata}:{p}"));
        }
        return problems;
    }

    public static Dictionary<string, string> Metadata(IConfiguration config) =>
        config.GetSection(SiloConfiguration.Metadata).GetChildren().Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!);

    public static T Bind<T>(IConfiguration config, string section, List<string> problems) where T : new()
    {
        var options = new T();
        try
        {
            config.GetSection(section).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            problems.Add($"{section}: {e.Message}");
        }
        return options;
    }

    private static IEnumerable<string> Constants(params Type[] types) =>
        types.SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!);

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    private static partial Regex VariableName();
}
