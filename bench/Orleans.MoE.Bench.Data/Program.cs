using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Bench.Data;

// Data-layer benchmarks and a corpus preparation run.
// Usage: dotnet run -c Release --project bench/Orleans.MoE.Bench.Data -- [tokenizer|corpus|kmeans|all] [corpus-dir]
var which = args.Length > 0 ? args[0] : "all";
var corpusDirectory = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "moe-builtin-corpus");
if (which is "corpus" or "all") CorpusBenchmark.Run(corpusDirectory, vocabSize: 8192);
if (which is "tokenizer" or "all") TokenizerBenchmark.Run(BenchCorpus.Load(maxBytesPerDomain: BuiltInCorpus.DefaultMaxBytesPerDomain), vocabSize: 8192);
if (which is "kmeans" or "all") KMeansBenchmark.Run();
