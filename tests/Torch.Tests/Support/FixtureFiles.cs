namespace Orleans.MoE.Torch.Tests.Support;

/// <summary>
/// The committed reference files under Fixtures/, copied beside the test assembly. They are written
/// by tests/fixtures/make_torch_fixtures.py with Debian's python3-torch; the tests only read them.
/// </summary>
internal static class FixtureFiles
{
    public static string PathOf(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"fixture {path} is missing: regenerate it with `/usr/bin/python3 tests/fixtures/make_torch_fixtures.py`", path);
        return path;
    }
}
