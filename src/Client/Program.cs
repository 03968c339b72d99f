using System.CommandLine;
using Orleans.MoE.Client.Demo;

var root = new RootCommand("Orleans.MoE: train Mixture-of-Experts language models on mixed GPU fleets.");
root.Subcommands.Add(DemoCommand.Create());
return await root.Parse(args).InvokeAsync();
