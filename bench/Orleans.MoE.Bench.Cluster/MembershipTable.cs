using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>
/// Orleans' membership table as Redis holds it (one hash per cluster, a JSON row per silo
/// incarnation): the moment a row says Dead is the moment the cluster declared that silo dead,
/// whichever silo hosts which grain. Read-only.
/// </summary>
internal sealed class MembershipTable : IDisposable
{
    private readonly ConnectionMultiplexer _redis;

    public MembershipTable(string connectionString) => _redis = ConnectionMultiplexer.Connect(connectionString);

    /// <summary>The status of the newest row of the named silo (Active, Dead, ...), or null when it has none.</summary>
    public async Task<string?> StatusOfAsync(string siloName)
    {
        var server = _redis.GetServers()[0];
        var database = _redis.GetDatabase();
        string? status = null;
        DateTimeOffset newest = DateTimeOffset.MinValue;
        await foreach (var key in server.KeysAsync(pattern: "*/members/*"))
        {
            foreach (var field in await database.HashGetAllAsync(key))
            {
                if (field.Name == "Version" || JsonNode.Parse(field.Value.ToString()) is not JsonObject row) continue;
                if ((string?)row["SiloName"] != siloName) continue;
                var started = row["StartTime"] is JsonValue t && t.TryGetValue<DateTimeOffset>(out var at) ? at : DateTimeOffset.MinValue;
                if (status is not null && started < newest) continue;
                newest = started;
                status = row["Status"] switch
                {
                    JsonValue v when v.TryGetValue<int>(out var code) => ((Orleans.Runtime.SiloStatus)code).ToString(),
                    JsonValue v => v.ToString(),
                    _ => null,
                };
            }
        }
        return status;
    }

    public void Dispose() => _redis.Dispose();
}
