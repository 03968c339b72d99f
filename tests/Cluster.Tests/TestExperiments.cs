namespace Orleans.MoE.Cluster.Tests;

/// <summary>Experiment files for the tests: a tiny MoE with two experts on a corpus file given by path.</summary>
internal static class TestExperiments
{
    public static string Tiny(string corpusPath, string extra = "", int submodelSteps = 6, int fineTuneSteps = 8, bool stopAtBaseline = true) => $$"""
        {
          "name": "tiny",{{extra}}
          "model": {
            "vocab_size": 320, "d_model": 16, "num_layers": 2, "max_seq_len": 16,
            "attention": { "num_heads": 2 },
            "layers": { "first_dense": 1, "dense": { "hidden_dim": 32 },
                        "ffn": { "kind": "moe", "moe": { "num_experts": 2, "top_k": 2, "expert_dim": 16 } } },
            "init": { "seed": 3 }
          },
          "data": { "paths": [ "{{corpusPath}}" ], "validation_fraction": 0.2, "seed": 1 },
          "clustering": { "method": "kmeans", "restarts": 2, "seed": 1 },
          "submodels": { "batch_size": 4, "context_length": 16, "steps": {{submodelSteps}}, "schedule": { "kind": "constant" },
                         "optimizer": { "lr": 3e-3 }, "eval": { "every": 3, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 1, "threads": 1 },
          "integration": { "averaging": "weighted_by_tokens" },
          "fine_tune": { "batch_size": 4, "context_length": 16, "steps": {{fineTuneSteps}}, "schedule": { "kind": "cosine", "warmup_steps": 1 },
                         "optimizer": { "lr": 3e-3 }, "eval": { "every": 4, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 2, "threads": 1 },
          "target_loss_window": 2,
          "stop_fine_tune_at_baseline_loss": {{(stopAtBaseline ? "true" : "false")}},
          "baseline": { "batch_size": 4, "context_length": 16, "steps": 8, "schedule": { "kind": "cosine", "warmup_steps": 1 },
                        "optimizer": { "lr": 3e-3 }, "eval": { "every": 4, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 2, "threads": 1 }
        }
        """;

    /// <summary>
    /// Writes the two-domain corpus (words and numbers, which a byte-level model tells apart easily)
    /// of <paramref name="pairs"/> documents of each, and returns its path.
    /// </summary>
    public static string WriteCorpus(string directory, int pairs = 60)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "corpus.jsonl");
        var random = new Random(5);
        using var corpus = new StreamWriter(path);
        string[] words = ["alpha", "beta", "gamma", "delta", "omega"];
        for (var i = 0; i < pairs; i++)
        {
            var prose = string.Join(" ", Enumerable.Range(0, 40).Select(_ => words[random.Next(words.Length)]));
            var numbers = string.Join(",", Enumerable.Range(0, 40).Select(_ => random.Next(1000)));
            corpus.WriteLine(new System.Text.Json.Nodes.JsonObject { ["text"] = prose, ["domain"] = "prose" }.ToJsonString());
            corpus.WriteLine(new System.Text.Json.Nodes.JsonObject { ["text"] = numbers, ["domain"] = "numbers" }.ToJsonString());
        }
        return path;
    }
}
