using System.Globalization;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Health;
using Orleans.MoE.Silo.Hosting;
using Orleans.MoE.Silo.Security;
using YamlDotNet.RepresentationModel;
using static Orleans.MoE.Deploy.Tests.RenderedManifests;

namespace Orleans.MoE.Deploy.Tests;

/// <summary>
/// No drift between the manifests and the silo: the variables, ports, probe paths, metadata keys, mounted
/// secrets and grace period the rendered overlays set are the ones the silo reads and needs.
/// </summary>
public sealed class ManifestDriftTests
{
    private static readonly string[] DeviceClasses = ["low-cost", "high-memory"];

    public static TheoryData<string, string> Silos()
    {
        var data = new TheoryData<string, string>();
        foreach (var overlay in Overlays)
            foreach (var deviceClass in DeviceClasses) data.Add(overlay, deviceClass);
        return data;
    }

    private static (RenderedManifests Manifests, YamlMappingNode Deployment, YamlMappingNode Container, Dictionary<string, string> Environment) Silo(string overlay, string deviceClass)
    {
        var manifests = Render(overlay);
        var deployment = manifests.Single("Deployment", "silo-" + deviceClass);
        var container = Items(deployment, "spec", "template", "spec", "containers").Single(c => Text(c, "name") == "silo");
        return (manifests, deployment, container, SiloEnvironment.Of(manifests, container));
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void EveryVariableIsOneTheSiloReads(string overlay, string deviceClass)
    {
        var (_, _, _, environment) = Silo(overlay, deviceClass);
        var problems = SiloEnvironment.Problems(environment);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        var config = SiloEnvironment.Configuration(environment);
        // A real cluster (MOE_CLUSTER, not an embedded one), and Orleans' Kubernetes hosting.
        Assert.False(string.IsNullOrEmpty(environment[SiloConfiguration.RedisVariable]));
        Assert.True(bool.Parse(config[SiloConfiguration.KubernetesHosting]!));
        Assert.All(new[] { ClusterTlsSettings.CertificateKey, ClusterTlsSettings.AuthorityKey, ClusterTlsSettings.PasswordFileKey, SiloConfiguration.RedisPasswordFile, SiloConfiguration.ArtifactRoot },
            key => Assert.False(string.IsNullOrEmpty(config[key]), $"{key} is not set"));
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void EachSiloDeclaresOnePoolOfItsClassAndHoldsItsDevices(string overlay, string deviceClass)
    {
        var (_, deployment, container, environment) = Silo(overlay, deviceClass);
        var pools = DevicePoolMetadata.Parse(SiloEnvironment.Metadata(SiloEnvironment.Configuration(environment)));
        var pool = Assert.Single(pools);
        Assert.Equal(deviceClass, pool.Class);
        Assert.Equal(deviceClass, Text(deployment, "spec", "template", "metadata", "labels", "moe.orleans/device-class"));
        var gpus = Text(container, "resources", "limits", "nvidia.com/gpu");
        if (overlay == "mixed-gpu")
        {
            Assert.Equal("cuda", pool.Kind);
            Assert.Equal(pool.Devices.ToString(CultureInfo.InvariantCulture), gpus);
            Assert.Equal(gpus, Text(container, "resources", "requests", "nvidia.com/gpu"));
            var products = Items(deployment, "spec", "template", "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
                .SelectMany(t => Items(t, "matchExpressions")).Single(e => Text(e, "key") == "nvidia.com/gpu.product");
            var values = ((YamlSequenceNode)At(products, "values")!).Children.Select(v => ((YamlScalarNode)v).Value!).ToList();
            Assert.Contains(deviceClass == "low-cost" ? "NVIDIA-GeForce-RTX-4090" : "NVIDIA-H100-80GB-HBM3", values);
            Assert.Equal("orleans-moe-cuda:latest", Text(container, "image"));
        }
        else
        {
            Assert.Equal("cpu", pool.Kind);
            Assert.Null(gpus);
            Assert.Null(At(deployment, "spec", "template", "spec", "affinity"));
        }
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void PortsAndProbesAreTheSilos(string overlay, string deviceClass)
    {
        var (_, _, container, environment) = Silo(overlay, deviceClass);
        var config = SiloEnvironment.Configuration(environment);
        var ports = Items(container, "ports").ToDictionary(p => Text(p, "name")!, p => Text(p, "containerPort")!);
        Assert.Equal(config[SiloConfiguration.SiloPort], ports["silo"]);
        Assert.Equal(config[SiloConfiguration.GatewayPort], ports["gateway"]);
        var health = SiloEnvironment.Bind<SiloHealthOptions>(config, SiloHealthOptions.Section, []);
        Assert.True(health.Port > 0, "the health endpoint is off");
        Assert.Equal(health.Port.ToString(CultureInfo.InvariantCulture), ports["health"]);
        foreach (var (probe, path) in new[] { ("startupProbe", SiloHealth.StartupPath), ("livenessProbe", SiloHealth.LivePath), ("readinessProbe", SiloHealth.ReadyPath) })
        {
            Assert.Equal(path, Text(container, probe, "httpGet", "path"));
            Assert.Equal("health", Text(container, probe, "httpGet", "port"));
        }
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void APodOutlastsItsWorkersCheckpoints(string overlay, string deviceClass)
    {
        var (_, deployment, _, environment) = Silo(overlay, deviceClass);
        var options = SiloEnvironment.Bind<MoeSiloOptions>(SiloEnvironment.Configuration(environment), MoeSiloOptions.Section, []);
        var grace = TimeSpan.FromSeconds(int.Parse(Text(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture));
        // moe silo gives the host StopGracePeriod + 30 s to stop (SiloCommand); the pod must not be killed before.
        Assert.True(grace > options.StopGracePeriod + TimeSpan.FromSeconds(30), $"terminationGracePeriodSeconds {grace} <= {options.StopGracePeriod} + 30 s");
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void TheFilesTheSettingsNameAreMounted(string overlay, string deviceClass)
    {
        var (manifests, deployment, container, environment) = Silo(overlay, deviceClass);
        var config = SiloEnvironment.Configuration(environment);
        var volumes = Items(deployment, "spec", "template", "spec", "volumes").ToDictionary(v => Text(v, "name")!);
        var mounts = Items(container, "volumeMounts").ToDictionary(m => Text(m, "mountPath")!, m => volumes[Text(m, "name")!]);
        foreach (var key in new[] { ClusterTlsSettings.CertificateKey, ClusterTlsSettings.AuthorityKey, ClusterTlsSettings.PasswordFileKey, SiloConfiguration.RedisPasswordFile })
        {
            var file = config[key]!;
            Assert.True(mounts.TryGetValue(Path.GetDirectoryName(file)!, out var volume), $"{key} = {file}: its directory is not a mounted volume");
            Assert.NotNull(Text(volume, "secret", "secretName"));
        }
        var artifacts = mounts[config[SiloConfiguration.ArtifactRoot]!];
        var claim = manifests.Single("PersistentVolumeClaim", Text(artifacts, "persistentVolumeClaim", "claimName")!);
        Assert.Equal("ReadWriteMany", ((YamlScalarNode)((YamlSequenceNode)At(claim, "spec", "accessModes")!).Children.Single()).Value);
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void KubernetesHostingFindsItsLabelsAndMayManagePods(string overlay, string deviceClass)
    {
        var (manifests, deployment, _, environment) = Silo(overlay, deviceClass);
        var labels = (YamlMappingNode)At(deployment, "spec", "template", "metadata", "labels")!;
        var config = SiloEnvironment.Configuration(environment);
        // UseKubernetesHosting takes the cluster and service ids from these labels; they must be the ones the settings give.
        Assert.Equal(config[SiloConfiguration.ClusterId], Text(labels, "orleans/clusterId"));
        Assert.Equal(config[SiloConfiguration.ServiceId], Text(labels, "orleans/serviceId"));
        var account = Text(deployment, "spec", "template", "spec", "serviceAccountName")!;
        manifests.Single("ServiceAccount", account);
        var binding = manifests.OfKind("RoleBinding").Single(b => Items(b, "subjects").Any(s => Text(s, "name") == account));
        var role = manifests.Single("Role", Text(binding, "roleRef", "name")!);
        var verbs = Items(role, "rules").Where(r => ((YamlSequenceNode)At(r, "resources")!).Children.Any(c => ((YamlScalarNode)c).Value == "pods"))
            .SelectMany(r => ((YamlSequenceNode)At(r, "verbs")!).Children.Select(v => ((YamlScalarNode)v).Value)).ToHashSet();
        Assert.Superset(new HashSet<string?> { "get", "list", "watch", "delete" }, verbs);

        // A disruption budget and a network policy select these pods.
        bool Selects(YamlMappingNode selector) => ((YamlMappingNode)At(selector, "matchLabels")!).Children.All(l => Text(labels, ((YamlScalarNode)l.Key).Value!) == ((YamlScalarNode)l.Value).Value);
        Assert.Contains(manifests.OfKind("PodDisruptionBudget"), p => Selects((YamlMappingNode)At(p, "spec", "selector")!));
        var policy = Assert.Single(manifests.OfKind("NetworkPolicy"), p => Selects((YamlMappingNode)At(p, "spec", "podSelector")!));
        var rules = Items(policy, "spec", "ingress").ToList();
        // Silo and gateway ports: only from the cluster's own pods; the health port: the kubelet's probes.
        var fromCluster = Assert.Single(rules, r => At(r, "from") is not null);
        Assert.Null(At(fromCluster, "ports"));
        var peer = Assert.Single(Items(fromCluster, "from"));
        Assert.Equal("orleans-moe", Text(peer, "podSelector", "matchLabels", "app.kubernetes.io/part-of"));
        Assert.Equal("orleans-moe", Text(labels, "app.kubernetes.io/part-of"));
        var open = Assert.Single(rules, r => At(r, "from") is null);
        Assert.Equal(config[SiloHealthOptions.Section + ":Port"], Assert.Single(Items(open, "ports")).Children[new YamlScalarNode("port")].ToString());
    }

    [Theory]
    [MemberData(nameof(Overlays), MemberType = typeof(ManifestSchemaTests))]
    public void TheClientJobRunsAnExperimentOnTheCluster(string overlay)
    {
        var manifests = Render(overlay);
        var job = manifests.Single("Job", "moe-run");
        var container = Assert.Single(Items(job, "spec", "template", "spec", "containers"));
        var args = ((YamlSequenceNode)At(container, "args")!).Children.Select(a => ((YamlScalarNode)a).Value!).ToList();
        Assert.Equal("run", args[0]);
        var volumes = Items(job, "spec", "template", "spec", "volumes").ToDictionary(v => Text(v, "name")!);
        var mounts = Items(container, "volumeMounts").ToDictionary(m => Text(m, "mountPath")!, m => volumes[Text(m, "name")!]);
        Assert.Equal("moe-experiment", Text(mounts[Path.GetDirectoryName(args[1])!], "configMap", "name"));
        Assert.Equal("moe-tls-client", Text(mounts["/var/run/secrets/moe/tls"], "secret", "secretName"));
        var environment = SiloEnvironment.Of(manifests, container);
        Assert.Empty(SiloEnvironment.Problems(environment, declaresPools: false));
        // The client finds the cluster through the same Redis the silos use.
        var redisHost = environment[SiloConfiguration.RedisVariable].Split(':')[0];
        manifests.Single("Service", redisHost);
        // The collector the silos export to is a Service of the render, on that port.
        var endpoint = new Uri(environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var collector = manifests.Single("Service", endpoint.Host);
        Assert.Contains(Items(collector, "spec", "ports"), p => Text(p, "port") == endpoint.Port.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("MoE__Silo__StopGracePeriodd", "00:01:00")]
    [InlineData("MoE__Silo__StopGracePeriod", "five minutes")]
    [InlineData("MoE__Helth__Port", "8080")]
    [InlineData("MoE__Health__Prot", "8080")]
    [InlineData("Orleans__Membership__ProbeTimout", "00:00:02")]
    [InlineData("Orleans__Metadata__pool0_clas", "low-cost")]
    [InlineData("Orleans__Metadata__pool0_devices", "two")]
    [InlineData("Orleans__Metadata__pol0_class", "low-cost")]
    [InlineData("Orleans__Endpoints__SiloPrt", "11111")]
    [InlineData("MoE__Tls__Certficate", "/x.pfx")]
    [InlineData("MOE_CLUSTR", "redis:6379")]
    [InlineData("POD_ADDRESS", "192.0.2.1")]
    public void AMisspeltOrMalformedSettingIsAProblem(string variable, string value)
    {
        var (_, _, _, environment) = Silo("cpu-only", "low-cost");
        Assert.Empty(SiloEnvironment.Problems(environment));
        environment[variable] = value;
        var problems = SiloEnvironment.Problems(environment);
        Assert.NotEmpty(problems);
    }
}
