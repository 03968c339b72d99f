namespace Orleans.MoE.Silo.Jobs;

/// <summary>
/// The program a worker runs as: the configured command, or this very program (its apphost, or
/// <c>dotnet moe.dll</c> when it was started through the dotnet host).
/// </summary>
internal static class WorkerCommandLine
{
    public static (string File, IReadOnlyList<string> Prefix) Resolve(string configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var parts = configured.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return (parts[0], parts[1..]);
        }
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown; set MoE:Silo:WorkerCommand");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("the entry assembly is unknown; set MoE:Silo:WorkerCommand");
            return (process, [entry]);
        }
        return (process, []);
    }
}
