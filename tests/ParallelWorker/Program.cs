using Orleans.MoE.ParallelWorker;
using Orleans.MoE.Torch.Distributed;

// One rank of a multi-process test run (see WorkerOptions for the command line). Exits 0 on success;
// on failure prints the error and exits 1.
try
{
    var options = WorkerOptions.Parse(args);
    Directory.CreateDirectory(options.Output);
    if (options.Mode == WorkerMode.Single)
    {
        foreach (var k in options.TopKs) TrainingRun.Execute(options, k, group: null);
        return 0;
    }
    using var group = ProcessGroup.Join(options.Rendezvous!.Value, options.Rank, options.WorldSize, TimeSpan.FromSeconds(60));
    if (options.Mode == WorkerMode.Zipf) ZipfRun.Execute(options, group);
    else foreach (var k in options.TopKs) TrainingRun.Execute(options, k, group);
    group.Barrier("done");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine(e);
    return 1;
}
