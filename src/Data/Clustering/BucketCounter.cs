using System.Runtime.CompilerServices;

namespace Orleans.MoE.Data.Clustering;

/// <summary>
/// Counts occurrences per bucket for one document: an open-addressing hash table that is reused
/// from document to document (clearing touches only the slots used), several times faster than a
/// Dictionary on this hot path. Entries enumerate in first-insertion order, so sums over them are
/// reproducible.
/// </summary>
internal sealed class BucketCounter
{
    private int[] _keys = new int[1024];
    private float[] _values = new float[1024];
    private int[] _order = new int[513]; // slots in insertion order; grows before it fills
    private int _count;

    public BucketCounter() => Array.Fill(_keys, -1);

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int bucket)
    {
        var mask = _keys.Length - 1;
        var slot = (int)((uint)bucket * 0x9E3779B9u >> 7) & mask;
        while (true)
        {
            var key = _keys[slot];
            if (key == bucket)
            {
                _values[slot] += 1;
                return;
            }
            if (key < 0) break;
            slot = (slot + 1) & mask;
        }
        _keys[slot] = bucket;
        _values[slot] = 1;
        _order[_count++] = slot;
        if (_count * 2 > _keys.Length) Grow();
    }

    public (int Bucket, float Count) this[int index] => (_keys[_order[index]], _values[_order[index]]);

    public void Clear()
    {
        for (var i = 0; i < _count; i++) _keys[_order[i]] = -1;
        _count = 0;
    }

    private void Grow()
    {
        var entries = new (int, float)[_count];
        for (var i = 0; i < _count; i++) entries[i] = this[i];
        _keys = new int[_keys.Length * 2];
        _values = new float[_keys.Length];
        _order = new int[_keys.Length / 2 + 1];
        Array.Fill(_keys, -1);
        _count = 0;
        foreach (var (bucket, value) in entries)
        {
            Add(bucket);
            _values[_order[_count - 1]] = value;
        }
    }
}
