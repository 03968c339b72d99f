namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// The BPE merges as a lookup by token pair: the merge's rank (its position in the merge list;
/// lower merges first) and the id of the token it produces. Applies the merges to one word.
/// </summary>
internal sealed class MergeTable
{
    /// <summary>Words up to this many bytes use the quadratic scan, which is faster for short words.</summary>
    internal const int ShortWordBytes = 48;

    private readonly Dictionary<long, long> _byPair;

    public MergeTable(IReadOnlyList<(int Left, int Right, int Result)> merges)
    {
        _byPair = new Dictionary<long, long>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right, result) = merges[rank];
            // A repeated pair keeps its first (lowest) rank, as the reference implementations do.
            _byPair.TryAdd(Key(left, right), ((long)rank << 32) | (uint)result);
        }
    }

    public int Count => _byPair.Count;

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>The rank and result of merging the pair, or false when the pair never merges.</summary>
    public bool TryGet(int left, int right, out int rank, out int result)
    {
        if (_byPair.TryGetValue(Key(left, right), out var packed))
        {
            rank = (int)(packed >> 32);
            result = (int)packed;
            return true;
        }
        rank = result = 0;
        return false;
    }

    /// <summary>
    /// Merges the symbols in place, always taking the lowest-ranked pair present (the leftmost one on
    /// a tie), and returns how many symbols remain.
    /// </summary>
    public int Apply(Span<int> symbols) =>
        symbols.Length <= ShortWordBytes ? ApplyByScan(symbols) : ApplyByHeap(symbols);

    internal int ApplyByScan(Span<int> symbols)
    {
        var length = symbols.Length;
        while (length > 1)
        {
            var bestRank = int.MaxValue;
            var bestAt = -1;
            var bestResult = 0;
            for (var i = 0; i + 1 < length; i++)
            {
                if (TryGet(symbols[i], symbols[i + 1], out var rank, out var result) && rank < bestRank)
                {
                    bestRank = rank;
                    bestAt = i;
                    bestResult = result;
                }
            }
            if (bestAt < 0) break;
            symbols[bestAt] = bestResult;
            symbols[(bestAt + 2)..length].CopyTo(symbols[(bestAt + 1)..]);
            length--;
        }
        return length;
    }

    /// <summary>
    /// The same merges in O(n log n) for long words: symbols form a linked list, candidate pairs sit
    /// in a heap ordered by (rank, position), and entries made stale by earlier merges are skipped.
    /// </summary>
    internal int ApplyByHeap(Span<int> symbols)
    {
        var n = symbols.Length;
        if (n < 2) return n;
        var next = new int[n];
        var previous = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            previous[i] = i - 1;
            alive[i] = true;
        }
        var heap = new PriorityQueue<int, long>();
        for (var i = 0; i + 1 < n; i++) Push(heap, symbols, i, i + 1);

        while (heap.TryDequeue(out var at, out var priority))
        {
            var right = next[at];
            if (!alive[at] || right < 0) continue;
            if (!TryGet(symbols[at], symbols[right], out var rank, out var result) || rank != (int)(priority >> 32)) continue;
            symbols[at] = result;
            alive[right] = false;
            next[at] = next[right];
            if (next[right] >= 0) previous[next[right]] = at;
            if (previous[at] >= 0) Push(heap, symbols, previous[at], at);
            if (next[at] >= 0) Push(heap, symbols, at, next[at]);
        }

        var length = 0;
        for (var i = 0; i >= 0 && i < n; i = next[i]) symbols[length++] = symbols[i];
        return length;
    }

    private void Push(PriorityQueue<int, long> heap, Span<int> symbols, int left, int right)
    {
        if (TryGet(symbols[left], symbols[right], out var rank, out _)) heap.Enqueue(left, ((long)rank << 32) | (uint)left);
    }
}
