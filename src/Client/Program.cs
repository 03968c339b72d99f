using System.CommandLine;
using Orleans.MoE.Client.Corpus;
using Orleans.MoE.Client.Demo;
using Orleans.MoE.Client.Training;

var root = new RootCommand("Orleans.MoE: train Mixture-of-Experts language models on mixed GPU fleets.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(PrepareCorpusCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
return await root.Parse(args).InvokeAsync();
