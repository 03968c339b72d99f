using System.CommandLine;
using System.Globalization;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe silos`: every live silo with its device pools, their busy and free slots, and the jobs it runs.</summary>
internal static class SilosCommand
{
    public static Command Create()
    {
        var cluster = ClusterOption.Create();
        var command = new Command("silos", "List the cluster's live silos: device pools, prices, busy and free slots, jobs.");
        command.Options.Add(cluster);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(ClusterOption.Required(parse.GetValue(cluster)));
            var silos = await connection.Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
            foreach (var silo in silos)
            {
                Console.WriteLine($"{silo.Name}  ({silo.Silo})");
                if (silo.Problem is not null) Console.WriteLine($"  {silo.Problem}");
                for (var i = 0; i < silo.Pools.Count; i++)
                {
                    var p = silo.Pools[i];
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {p.Class,-12} {p.Kind,-4} {p.Devices} devices x {p.MemoryGib} GiB  ${p.DollarsPerHour}/h  throughput {p.RelativeThroughput}  busy {silo.Busy[i]}, free {p.Devices - silo.Busy[i]}"));
                }
                foreach (var job in silo.Jobs) Console.WriteLine($"  running {job}");
            }
            if (silos.Count == 0) Console.WriteLine("no live silos");
            return 0;
        });
        return command;
    }
}
