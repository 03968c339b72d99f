using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// The paper's document features: the mean of the token embeddings of a document,
/// h_x = (1/n) Σ_i E[x_i], with E (V, d) taken from a trained model (a checkpoint's embedding
/// table). Computed on the tensor engine in batches of documents: an embedding lookup of all
/// their tokens, then an index-add into one row per document.
/// </summary>
public static class EmbeddingFeatures
{
    /// <summary>
    /// One tensor of a safetensors checkpoint, such as "tok_embeddings.weight", as Float32 (V, d).
    /// The other tensors of the file are released at once.
    /// </summary>
    public static Tensor LoadTable(string checkpointPath, string tensorName)
    {
        var (tensors, _) = SafeTensors.Load(checkpointPath);
        try
        {
            if (!tensors.TryGetValue(tensorName, out var table))
            {
                var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
                var hint = names.Where(n => n.Contains("emb", StringComparison.OrdinalIgnoreCase)).ToList();
                throw new SafeTensorsFormatException(checkpointPath,
                    $"no tensor named '{tensorName}'; " + (hint.Count > 0 ? $"embedding-like tensors: {string.Join(", ", hint)}" : $"tensors: {string.Join(", ", names.Take(20))}{(names.Count > 20 ? ", ..." : "")}"));
            }
            if (table.Dim != 2)
                throw new SafeTensorsFormatException(checkpointPath, $"tensor '{tensorName}' has shape [{string.Join(", ", table.Shape)}]; an embedding table is (vocabulary, dim)");
            return table.To(ScalarType.Float32).DetachFromScope();
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Mean-pooled embeddings (N, d) Float32 of the documents' token ids; ids in
    /// <paramref name="ignoredTokens"/> (such as the end-of-text separator) are left out, and a
    /// document with no token left gets a zero row.
    /// </summary>
    public static Tensor MeanPooled(Tensor table, IReadOnlyList<int[]> documents, IReadOnlySet<int>? ignoredTokens = null, int batchTokens = 1 << 18)
    {
        if (table.Dim != 2) throw new ArgumentException($"the embedding table must be (vocabulary, dim), not [{string.Join(", ", table.Shape)}]", nameof(table));
        var vocabulary = table.Size(0);
        var dim = table.Size(1);
        using var noGrad = GradMode.NoGrad();
        using var scope = DisposeScope.Begin();
        var weight = table.To(ScalarType.Float32);
        var rows = new List<Tensor>();
        for (var first = 0; first < documents.Count;)
        {
            var ids = new List<long>();
            var owner = new List<long>();
            var counts = new List<float>();
            var last = first;
            while (last < documents.Count && (last == first || ids.Count + documents[last].Length <= batchTokens))
            {
                var kept = 0;
                foreach (var id in documents[last])
                {
                    if (ignoredTokens?.Contains(id) == true) continue;
                    if ((uint)id >= vocabulary)
                        throw new ArgumentException($"document {last} holds token id {id} but the embedding table has {vocabulary} rows: the checkpoint and the tokenizer do not match");
                    ids.Add(id);
                    owner.Add(last - first);
                    kept++;
                }
                counts.Add(Math.Max(kept, 1));
                last++;
            }
            using (var batch = DisposeScope.Begin())
            {
                var embedded = Functional.Embedding(weight, Tensor.FromArray(ids.ToArray())); // (tokens, d)
                var sums = Tensor.Zeros([last - first, dim]).IndexAdd(0, Tensor.FromArray(owner.ToArray()), embedded); // (docs, d)
                rows.Add(batch.MoveToOuter(sums / Tensor.FromArray(counts.ToArray()).Unsqueeze(1))); // (docs, d)
            }
            first = last;
        }
        return scope.MoveToOuter(Tensor.Cat(rows, 0)); // (N, d)
    }
}
