using System.Text.Json.Nodes;

namespace Orleans.MoE.Bench.Cluster;

internal static class BenchExperiments
{
    /// <summary>A small MoE-DisCo experiment on a slice of the built-in corpus: a few steps per phase, one thread per job.</summary>
    public const string Small = """
        {
          "name": "bench-small",
          "model": {
            "vocab_size": 512, "d_model": 64, "num_layers": 2, "max_seq_len": 32, "attention": { "num_heads": 2 },
            "layers": { "first_dense": 1, "dense": { "hidden_dim": 128 },
                        "ffn": { "kind": "moe", "moe": { "num_experts": 2, "top_k": 2, "expert_dim": 64 } } },
            "init": { "seed": 1 }
          },
          "data": { "max_bytes_per_domain": 16384, "validation_fraction": 0.1 },
          "submodels": { "batch_size": 8, "context_length": 32, "steps": 20, "schedule": { "kind": "constant" }, "optimizer": { "lr": 2e-3 },
                         "eval": { "every": 20, "batches": 2 }, "checkpoint": { "every": 10, "keep": 1 }, "seed": 1, "threads": 1 },
          "fine_tune": { "batch_size": 8, "context_length": 32, "steps": 20, "schedule": { "kind": "constant" }, "optimizer": { "lr": 1e-3 },
                         "eval": { "every": 20, "batches": 2 }, "checkpoint": { "every": 10, "keep": 1 }, "seed": 2, "threads": 1 },
          "stop_fine_tune_at_baseline_loss": false,
          "baseline": { "batch_size": 8, "context_length": 32, "steps": 20, "schedule": { "kind": "constant" }, "optimizer": { "lr": 2e-3 },
                        "eval": { "every": 20, "batches": 2 }, "checkpoint": { "every": 10, "keep": 1 }, "seed": 2, "threads": 1 }
        }
        """;

    /// <summary>
    /// The small experiment with submodels that train far longer than the failover benchmark waits
    /// (it stops the cluster once the killed job runs again), checkpointing every given number of steps.
    /// </summary>
    public static string Failover(int checkpointEvery)
    {
        var experiment = JsonNode.Parse(Small)!.AsObject();
        experiment["name"] = "bench-failover";
        var submodels = experiment["submodels"]!.AsObject();
        submodels["steps"] = 1_000_000;
        submodels["eval"]!["every"] = 1_000_000;
        submodels["checkpoint"] = new JsonObject { ["every"] = checkpointEvery, ["keep"] = 2 };
        return experiment.ToJsonString();
    }

    public static string Demo()
    {
        using var stream = typeof(BenchExperiments).Assembly.GetManifestResourceStream("disco-demo.json")!;
        return new StreamReader(stream).ReadToEnd();
    }
}
