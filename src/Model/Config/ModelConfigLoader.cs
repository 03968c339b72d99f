using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.MoE.Model.Config;

/// <summary>
/// Reads a <see cref="ModelConfig"/> from JSON and validates it. Every problem is reported at once,
/// each under its field path with the bad value and what is allowed; unknown fields are problems too,
/// so a typo never falls back to a default silently. (YAML is not read: no YAML parser is available
/// to the build, and the JSON form is what checkpoints store.)
/// </summary>
public static class ModelConfigLoader
{
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
    };

    public static ModelConfig LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelConfigException(path, [new ConfigProblem("$", "file not found; give the path of a model JSON file")]);
        }
        return Parse(text, path);
    }

    /// <summary>Parses and validates; <paramref name="source"/> names the input in error messages.</summary>
    public static ModelConfig Parse(string json, string source = "model config")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(source,
                [new ConfigProblem("$", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}")]);
        }

        using (document)
        {
            var problems = new ConfigProblemList();
            var root = JsonObjectReader.Root(document.RootElement, problems);
            if (root is null) throw new ModelConfigException(source, problems.Problems);
            var config = ReadModel(root);
            ModelConfigValidator.Collect(config, problems);
            if (problems.Count > 0) throw new ModelConfigException(source, problems.Problems);
            return config;
        }
    }

    /// <summary>The configuration as JSON that <see cref="Parse"/> reads back to an equal record.</summary>
    public static string ToJson(ModelConfig config) => JsonSerializer.Serialize(config, WriteOptions);

    // Missing required values read as 0 (or a default sub-record); the problem is already recorded and
    // the validator skips every check that depends on an unreadable path.

    private static ModelConfig ReadModel(JsonObjectReader r)
    {
        var config = new ModelConfig
        {
            VocabSize = r.Int("vocab_size", true, "set the vocabulary size (e.g. 256 for bytes, 50304 for GPT-2 padded)") ?? 0,
            DModel = r.Int("d_model", true, "set the model width d (e.g. 1024)") ?? 0,
            NumLayers = r.Int("num_layers", true, "set the number of transformer blocks (e.g. 12)") ?? 0,
            MaxSeqLen = r.Int("max_seq_len", true, "set the longest sequence the model accepts (e.g. 2048)") ?? 0,
            NormEps = r.Double("norm_eps", false, "RMSNorm epsilon, a small positive number") ?? ModelConfig.DefaultNormEps,
            TieEmbeddings = r.Bool("tie_embeddings", false, "true shares the embedding with the classifier") ?? false,
            Attention = ReadAttention(r.Object("attention", true, "give { \"num_heads\": ... }")),
            Layers = ReadLayers(r.Object("layers", true, "give { \"first_dense\": ..., \"dense\": {...}, \"ffn\": {...} }")),
            Balancing = ReadBalancing(r.Object("balancing", false, "give { \"bias_update_rate\": ..., ... }")),
            Init = ReadInit(r.Object("init", false, "give { \"std\": ..., \"seed\": ... }")),
        };
        r.ReportUnknownFields();
        return config;
    }

    private static AttentionConfig ReadAttention(JsonObjectReader? r)
    {
        if (r is null) return new AttentionConfig { NumHeads = 0 };
        var result = new AttentionConfig
        {
            NumHeads = r.Int("num_heads", true, "set the number of attention heads; it must divide d_model") ?? 0,
            RopeBase = r.Double("rope_base", false, "the rotary base, e.g. 10000") ?? AttentionConfig.DefaultRopeBase,
        };
        r.ReportUnknownFields();
        return result;
    }

    private static LayersConfig ReadLayers(JsonObjectReader? r)
    {
        if (r is null) return new LayersConfig { Ffn = new FfnConfig { Kind = FfnKind.Mlp } };
        var result = new LayersConfig
        {
            FirstDense = r.Int("first_dense", false, "the number of leading layers with a dense MLP (the paper uses 2)") ?? 0,
            Dense = ReadDense(r.Object("dense", false, "give { \"hidden_dim\": ..., \"activation\": ... }")),
            Ffn = ReadFfn(r.Object("ffn", true, "give { \"kind\": ..., ... } for the layers after the first dense ones")),
        };
        r.ReportUnknownFields();
        return result;
    }

    private static DenseMlpConfig? ReadDense(JsonObjectReader? r)
    {
        if (r is null) return null;
        var result = new DenseMlpConfig
        {
            HiddenDim = r.Int("hidden_dim", true, "set the MLP hidden width (e.g. 4 x d_model)") ?? 0,
            Activation = r.Enum<Activation>("activation", false, "the MLP non-linearity") ?? Activation.Gelu,
        };
        r.ReportUnknownFields();
        return result;
    }

    private static FfnConfig ReadFfn(JsonObjectReader? r)
    {
        if (r is null) return new FfnConfig { Kind = FfnKind.Mlp };
        var result = new FfnConfig
        {
            Kind = r.Enum<FfnKind>("kind", true, "choose the FFN kind") ?? FfnKind.Mlp,
            Moe = ReadMoe(r.Object("moe", false, "give { \"num_experts\": ..., \"top_k\": ..., \"expert_dim\": ... }")),
            Latent = ReadLatent(r.Object("latent", false, "give { \"latent_dim\": ... }")),
            Heads = ReadHeads(r.Object("heads", false, "give { \"num_heads\": ..., \"head_dim\": ... }")),
        };
        r.ReportUnknownFields();
        return result;
    }

    private static MoeConfig? ReadMoe(JsonObjectReader? r)
    {
        if (r is null) return null;
        var result = new MoeConfig
        {
            NumExperts = r.Int("num_experts", true, "set N_e, the number of experts (per head for multi_head_latent_moe)") ?? 0,
            TopK = r.Int("top_k", true, "set k, the number of experts each token is routed to") ?? 0,
            ExpertDim = r.Int("expert_dim", true, "set d_e, the hidden width of one expert") ?? 0,
            Activation = r.Enum<Activation>("activation", false, "the expert non-linearity") ?? Activation.Gelu,
        };
        r.ReportUnknownFields();
        return result;
    }

    private static LatentConfig? ReadLatent(JsonObjectReader? r)
    {
        if (r is null) return null;
        var result = new LatentConfig
        {
            LatentDim = r.Int("latent_dim", true, "set the latent width (LatentMoE recommends d_model / 4)") ?? 0,
        };
        r.ReportUnknownFields();
        return result;
    }

    private static HeadsConfig? ReadHeads(JsonObjectReader? r)
    {
        if (r is null) return null;
        var result = new HeadsConfig
        {
            NumHeads = r.Int("num_heads", true, "set N_h, the number of sub-tokens each token is split into") ?? 0,
            HeadDim = r.Int("head_dim", false, "d_h, the width of one sub-token (default d_model / num_heads)"),
        };
        r.ReportUnknownFields();
        return result;
    }

    private static BalancingConfig ReadBalancing(JsonObjectReader? r)
    {
        var defaults = new BalancingConfig();
        if (r is null) return defaults;
        var result = new BalancingConfig
        {
            BiasUpdateRate = r.Double("bias_update_rate", false, "the aux-free bias step per optimizer step (0 = off)") ?? defaults.BiasUpdateRate,
            AuxLossWeight = r.Double("aux_loss_weight", false, "the Switch load-balancing loss weight (0 = off)") ?? defaults.AuxLossWeight,
            ZLossWeight = r.Double("z_loss_weight", false, "the router z-loss weight (0 = off)") ?? defaults.ZLossWeight,
        };
        r.ReportUnknownFields();
        return result;
    }

    private static InitConfig ReadInit(JsonObjectReader? r)
    {
        var defaults = new InitConfig();
        if (r is null) return defaults;
        var result = new InitConfig
        {
            Std = r.Double("std", false, "the normal initialisation's standard deviation, e.g. 0.02") ?? defaults.Std,
            Seed = r.UInt64("seed", false, "the weight initialisation seed") ?? defaults.Seed,
        };
        r.ReportUnknownFields();
        return result;
    }
}
