namespace Orleans.MoE.Bench.Data;

/// <summary>Text for the tokenizer benchmark: Python sources that every Debian machine with python3 has.</summary>
internal static class BenchCorpus
{
    public static List<byte[]> Load(long maxBytes)
    {
        var files = Directory.EnumerateFiles("/usr/lib/python3.11", "*.py", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal);
        var result = new List<byte[]>();
        long total = 0;
        foreach (var f in files)
        {
            if (total >= maxBytes) break;
            var bytes = File.ReadAllBytes(f);
            result.Add(bytes);
            total += bytes.Length;
        }
        return result;
    }
}
