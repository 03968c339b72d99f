using Orleans.MoE.Bench.Data;

// Data-layer benchmarks: tokenizer throughput and k-means seconds per Lloyd iteration.
// Usage: dotnet run -c Release --project bench/Orleans.MoE.Bench.Data [tokenizer|kmeans|all]
var which = args.Length > 0 ? args[0] : "all";
if (which is "tokenizer" or "all") TokenizerBenchmark.Run(BenchCorpus.Load(maxBytes: 20_000_000), vocabSize: 8192);
