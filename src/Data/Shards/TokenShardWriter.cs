using System.Buffers.Binary;

namespace Orleans.MoE.Data.Shards;

/// <summary>
/// Writes a token shard document by document. Everything goes to a temporary file beside the
/// target; <see cref="Complete"/> writes the index and header, flushes to disk and renames it into
/// place, so a reader never sees a half-written shard. Disposing without completing deletes the
/// temporary file and leaves any existing target untouched.
/// </summary>
public sealed class TokenShardWriter : IDisposable
{
    private readonly string _temporary;
    private readonly FileStream _stream;
    private readonly List<long> _index = [0];
    private readonly byte[] _buffer = new byte[1 << 16];
    private long _tokens;
    private int _maxTokenId = -1;
    private bool _completed;

    public TokenShardWriter(string path, int vocabSize)
    {
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "the vocabulary size must be positive");
        Path = System.IO.Path.GetFullPath(path);
        VocabSize = vocabSize;
        Dtype = TokenShardHeader.DtypeFor(vocabSize);
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        _temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(_temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        _stream.Write(new byte[TokenShardHeader.Size]);
    }

    public string Path { get; }

    public int VocabSize { get; }

    public TokenDtype Dtype { get; }

    public long TokenCount => _tokens;

    public long DocumentCount => _index.Count - 1;

    /// <summary>Appends one document; every id must lie in [0, vocabulary size).</summary>
    public void AddDocument(ReadOnlySpan<int> tokens)
    {
        if (_completed) throw new InvalidOperationException($"{Path}: the shard is already complete");
        var size = (int)Dtype;
        var perChunk = _buffer.Length / size;
        for (var start = 0; start < tokens.Length; start += perChunk)
        {
            var chunk = tokens.Slice(start, Math.Min(perChunk, tokens.Length - start));
            for (var i = 0; i < chunk.Length; i++)
            {
                var id = chunk[i];
                if ((uint)id >= (uint)VocabSize)
                    throw new ArgumentOutOfRangeException(nameof(tokens), id,
                        $"{Path}: document {DocumentCount} has token id {id} at position {start + i}, outside the vocabulary [0, {VocabSize})");
                if (id > _maxTokenId) _maxTokenId = id;
                if (size == 2) BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(i * 2), (ushort)id);
                else BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(i * 4), (uint)id);
            }
            _stream.Write(_buffer, 0, chunk.Length * size);
        }
        _tokens += tokens.Length;
        _index.Add(_tokens);
    }

    /// <summary>Writes the index and header, flushes to disk and renames the shard into place.</summary>
    public void Complete()
    {
        if (_completed) return;
        var bytes = new byte[_index.Count * sizeof(long)];
        for (var i = 0; i < _index.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), _index[i]);
        _stream.Write(bytes);
        var header = new byte[TokenShardHeader.Size];
        new TokenShardHeader(Dtype, _tokens, VocabSize, DocumentCount, _maxTokenId).Write(header);
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_temporary, Path, overwrite: true);
        _completed = true;
    }

    public void Dispose()
    {
        if (_completed) return;
        _stream.Dispose();
        try { File.Delete(_temporary); } catch (IOException) { /* best effort: the target was never touched */ }
        _completed = true;
    }

    /// <summary>Writes a whole shard in one call.</summary>
    public static void Write(string path, int vocabSize, IEnumerable<int[]> documents)
    {
        using var writer = new TokenShardWriter(path, vocabSize);
        foreach (var d in documents) writer.AddDocument(d);
        writer.Complete();
    }
}
