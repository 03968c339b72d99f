namespace Orleans.MoE.Torch.NN;

/// <summary>An indexed list of child modules, named "0", "1", ... as torch.nn.ModuleList.</summary>
public sealed class ModuleList<TModule> : Module, IReadOnlyList<TModule> where TModule : Module
{
    private readonly List<TModule> _items = [];

    public ModuleList(IEnumerable<TModule> modules)
    {
        foreach (var m in modules) Add(m);
    }

    public void Add(TModule module)
    {
        RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
    }

    public TModule this[int index] => _items[index];

    public int Count => _items.Count;

    public IEnumerator<TModule> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
