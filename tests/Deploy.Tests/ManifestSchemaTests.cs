using k8s;

namespace Orleans.MoE.Deploy.Tests;

/// <summary>
/// Every overlay renders with kustomize, and every object it renders is valid against the Kubernetes
/// JSON schema of its kind (k8s/validate, kubernetes-models' bundled schemas, offline) and has no field
/// its kind lacks (the Kubernetes client's models, strict).
/// </summary>
public sealed class ManifestSchemaTests
{
    private static readonly string Validator = Path.Combine(RenderedManifests.RepositoryRoot, "k8s", "validate", "validate.js");

    public static TheoryData<string> Overlays => new(RenderedManifests.Overlays);

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryObjectMatchesTheSchemaOfItsKind(string overlay)
    {
        var manifests = RenderedManifests.Render(overlay);
        Assert.True(manifests.Objects.Count >= 19, $"{overlay} rendered only {manifests.Objects.Count} objects");
        var (exitCode, output, errors) = RenderedManifests.Run("node", [Validator, "-"], manifests.Yaml);
        Assert.True(exitCode == 0, $"{overlay}: schema check failed:\n{errors}\n{output}");
        Assert.Contains($"{manifests.Objects.Count} objects checked, 0 problems", output);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void NoObjectHasAFieldItsKindLacks(string overlay)
    {
        var manifests = RenderedManifests.Render(overlay);
        var objects = KubernetesYaml.LoadAllFromString(manifests.Yaml, strict: true);
        Assert.Equal(manifests.Objects.Count, objects.Count);
    }

    [Fact]
    public void TheSchemaCheckRefusesAWrongType()
    {
        var manifests = RenderedManifests.Render("cpu-only");
        var broken = manifests.Yaml.Replace("containerPort: 11111", "containerPort: eleven", StringComparison.Ordinal);
        Assert.NotEqual(manifests.Yaml, broken);
        var (exitCode, _, errors) = RenderedManifests.Run("node", [Validator, "-"], broken);
        Assert.Equal(1, exitCode);
        Assert.Contains("containerPort must be integer", errors);
    }

    [Fact]
    public void TheStrictCheckRefusesAMisspeltField()
    {
        var manifests = RenderedManifests.Render("cpu-only");
        var broken = manifests.Yaml.Replace("terminationGracePeriodSeconds:", "terminationGracePeriodSecond:", StringComparison.Ordinal);
        Assert.NotEqual(manifests.Yaml, broken);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(broken, strict: true));
    }
}
