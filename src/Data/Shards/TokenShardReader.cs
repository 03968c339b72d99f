using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;

namespace Orleans.MoE.Data.Shards;

/// <summary>
/// A token shard opened read-only through a memory map: the header, size, document index and largest
/// token id are checked on open (errors name the file), and tokens are read straight from the mapped
/// pages. Thread-safe for reads.
/// </summary>
public sealed unsafe class TokenShardReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    public TokenShardReader(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        FileStream stream;
        try
        {
            stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenShardFormatException(Path, "file not found");
        }
        try
        {
            Span<byte> header = stackalloc byte[TokenShardHeader.Size];
            var read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            Header = TokenShardHeader.Read(header[..read], stream.Length, Path);
            // The map takes over the stream and closes it when disposed.
            _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
        _base += _view.PointerOffset;
        try
        {
            CheckIndex();
            MaxTokenId = Header.MaxTokenId ?? ScanMaxTokenId();
            if (MaxTokenId >= VocabSize)
                throw new TokenShardFormatException(Path,
                    $"holds token id {MaxTokenId} but its header gives a vocabulary of {VocabSize} (ids 0 to {VocabSize - 1}): the header is wrong or the shard was written with another tokenizer; rebuild it");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Path { get; }

    public TokenShardHeader Header { get; }

    public long TokenCount => Header.TokenCount;

    public long DocumentCount => Header.DocumentCount;

    public int VocabSize => Header.VocabSize;

    public TokenDtype Dtype => Header.Dtype;

    /// <summary>The largest token id in the shard (-1 when it holds none); always below <see cref="VocabSize"/>.</summary>
    public int MaxTokenId { get; }

    private byte* Tokens => Base + Header.TokensOffset;

    private byte* Base => _base != null ? _base : throw new ObjectDisposedException(nameof(TokenShardReader), Path);

    private long IndexAt(long d) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(Base + Header.IndexOffset + d * 8, 8));

    /// <summary>The index must start at 0, never decrease and end at the token count.</summary>
    private void CheckIndex()
    {
        long previous = 0;
        for (long d = 0; d <= DocumentCount; d++)
        {
            var at = IndexAt(d);
            if ((d == 0 && at != 0) || at < previous || at > TokenCount || (d == DocumentCount && at != TokenCount))
                throw new TokenShardFormatException(Path, $"document index entry {d} is {at}, inconsistent with {TokenCount} tokens (corrupt)");
            previous = at;
        }
    }

    /// <summary>The largest id, read from every token: for version-1 shards, whose header does not record it.</summary>
    private int ScanMaxTokenId()
    {
        long max = -1;
        if (!BitConverter.IsLittleEndian)
        {
            for (long p = 0; p < TokenCount; p++) max = Math.Max(max, Token(p));
            return (int)max;
        }
        const int piece = 1 << 28;
        for (long start = 0; start < TokenCount; start += piece)
        {
            var count = (int)Math.Min(piece, TokenCount - start);
            max = Math.Max(max, Dtype == TokenDtype.UInt16
                ? MaxOf(new ReadOnlySpan<ushort>(Tokens + start * 2, count))
                : MaxOf(new ReadOnlySpan<uint>(Tokens + start * 4, count)));
        }
        return (int)Math.Min(max, int.MaxValue);
    }

    private static long MaxOf<T>(ReadOnlySpan<T> tokens) where T : unmanaged, IBinaryInteger<T>
    {
        if (tokens.IsEmpty) return -1;
        var i = 0;
        var best = T.Zero;
        if (Vector.IsHardwareAccelerated && tokens.Length >= Vector<T>.Count)
        {
            var lanes = Vector<T>.Zero;
            for (; i <= tokens.Length - Vector<T>.Count; i += Vector<T>.Count) lanes = Vector.Max(lanes, new Vector<T>(tokens[i..]));
            for (var lane = 0; lane < Vector<T>.Count; lane++) best = T.Max(best, lanes[lane]);
        }
        for (; i < tokens.Length; i++) best = T.Max(best, tokens[i]);
        return long.CreateTruncating(best);
    }

    /// <summary>The token range [Start, End) of document d.</summary>
    public (long Start, long End) Document(long d)
    {
        if (d < 0 || d >= DocumentCount) throw new ArgumentOutOfRangeException(nameof(d), d, $"{Path} has {DocumentCount} documents");
        return (IndexAt(d), IndexAt(d + 1));
    }

    public int Token(long position)
    {
        if ((ulong)position >= (ulong)TokenCount) throw new ArgumentOutOfRangeException(nameof(position), position, $"{Path} has {TokenCount} tokens");
        return Dtype == TokenDtype.UInt16
            ? BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(Tokens + position * 2, 2))
            : (int)BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(Tokens + position * 4, 4));
    }

    /// <summary>Copies destination.Length tokens starting at <paramref name="start"/>.</summary>
    public void CopyTokens(long start, Span<long> destination)
    {
        CheckRange(start, destination.Length);
        if (Dtype == TokenDtype.UInt16)
        {
            var source = new ReadOnlySpan<ushort>(Tokens + start * 2, destination.Length);
            for (var i = 0; i < source.Length; i++) destination[i] = BitConverter.IsLittleEndian ? source[i] : BinaryPrimitives.ReverseEndianness(source[i]);
        }
        else
        {
            var source = new ReadOnlySpan<uint>(Tokens + start * 4, destination.Length);
            for (var i = 0; i < source.Length; i++) destination[i] = BitConverter.IsLittleEndian ? source[i] : BinaryPrimitives.ReverseEndianness(source[i]);
        }
    }

    public void CopyTokens(long start, Span<int> destination)
    {
        CheckRange(start, destination.Length);
        for (var i = 0; i < destination.Length; i++)
        {
            var at = start + i;
            destination[i] = Dtype == TokenDtype.UInt16
                ? BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(Tokens + at * 2, 2))
                : (int)BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(Tokens + at * 4, 4));
        }
    }

    /// <summary>The tokens of document d.</summary>
    public int[] DocumentTokens(long d)
    {
        var (start, end) = Document(d);
        var result = new int[end - start];
        CopyTokens(start, result);
        return result;
    }

    private void CheckRange(long start, int length)
    {
        if (start < 0 || length < 0 || start + length > TokenCount)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"{Path}: tokens [{start}, {start + length}) are outside [0, {TokenCount})");
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
