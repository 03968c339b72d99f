using System.Globalization;

namespace Orleans.MoE.Bench;

/// <summary>Prints the tables and the machine-readable <c>RESULT</c> lines.</summary>
internal sealed class Report(TextWriter w)
{
    /// <summary>The binding may add at most this much per small op over the C++ reference.</summary>
    public const double ExtraMicrosecondsTarget = 2.0;

    /// <summary>Matmul through the binding must reach this fraction of the C++ reference's GFLOP/s.</summary>
    public const double MatmulRatioTarget = 0.95;

    private readonly List<string> _results = [];

    private static string F(double v, int decimals = 2) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);

    public void Header(IEnumerable<(string Key, string Value)> environment)
    {
        w.WriteLine("Orleans.MoE binding benchmarks");
        w.WriteLine();
        foreach (var (key, value) in environment) w.WriteLine($"  {key,-40} {value}");
        w.WriteLine();
    }

    public void SmallOps(int threads, IReadOnlyList<SmallOps.Result> results)
    {
        w.WriteLine($"Small ops on (16,) fp32, {threads} thread(s) both sides: microseconds per op, median over short");
        w.WriteLine("repetitions that alternate between the sides, timed in the measuring thread's CPU time (equal to");
        w.WriteLine("wall time on an idle machine, and not inflated by other processes on a busy one). Every column");
        w.WriteLine("includes creating and releasing the result tensor.");
        w.WriteLine("  C++               at::op(a, b) in C++, result released at the end of each iteration");
        w.WriteLine("  C ABI             moe_<op> + moe_tensor_free called from C++ (the native layer, no .NET)");
        w.WriteLine("  pinvoke           the same two exports called from C# with no wrapper");
        w.WriteLine("  dispose           the binding: `using var r = a + b;` (explicit Dispose), no scope current");
        w.WriteLine($"  scope             the binding: results owned by a DisposeScope disposed every {Bench.SmallOps.ScopeBlock} ops");
        w.WriteLine("  dispose-in-scope  the binding: `using var r = a + b;` while a DisposeScope is current");
        w.WriteLine($"  extra             binding minus C++; target <= {F(ExtraMicrosecondsTarget, 1)} us per op");
        w.WriteLine();
        w.WriteLine($"  {"op",-12}{"",-7}{"C++",8}{"C ABI",8}{"pinvoke",9}{"dispose",9}{"scope",9}{"dispose-in-scope",18}");
        foreach (var m in results)
        {
            var cpp = m.CppUs;
            w.WriteLine($"  {m.Op,-12}{"us/op",-7}{F(cpp),8}{F(m.CabiUs),8}{F(m.PInvokeUs),9}{F(m.DisposeUs),9}{F(m.ScopeUs),9}{F(m.DisposeInScopeUs),18}");
            w.WriteLine($"  {"",-12}{"extra",-7}{"",8}{F(m.CabiUs - cpp),8}{F(m.PInvokeUs - cpp),9}{F(m.DisposeUs - cpp),9}" +
                        $"{F(m.ScopeUs - cpp),9}{F(m.DisposeInScopeUs - cpp),18}");
            AddOverhead($"op_{m.Op}_dispose_us", m.DisposeUs, cpp);
            AddOverhead($"op_{m.Op}_scope_us", m.ScopeUs, cpp);
            AddOverhead($"op_{m.Op}_dispose_in_scope_us", m.DisposeInScopeUs, cpp);
        }
        w.WriteLine();
    }

    private void AddOverhead(string name, double csharp, double cpp)
    {
        var extra = csharp - cpp;
        _results.Add($"RESULT name={name} csharp={F(csharp, 3)} cpp={F(cpp, 3)} ratio={F(csharp / cpp, 3)} " +
                     $"extra={F(extra, 3)} target=extra<={F(ExtraMicrosecondsTarget, 1)}us met={(extra <= ExtraMicrosecondsTarget ? "yes" : "no")}");
    }

    private static double MsPerMatmul(double gflops) =>
        2.0 * Bench.Matmul.N * Bench.Matmul.N * Bench.Matmul.N / (gflops * 1e6);

    public void Matmul(Matmul.Result m)
    {
        var ratio = m.CsharpGflops / m.CppGflops;
        w.WriteLine($"Matmul (1024, 1024) x (1024, 1024) fp32, new result per call (median wall time, sides alternating)");
        w.WriteLine();
        w.WriteLine($"  {"side",-8}{"threads",9}{"GFLOP/s",10}{"ms/op",9}");
        w.WriteLine($"  {"C++",-8}{m.CppThreads,9}{F(m.CppGflops, 1),10}{F(MsPerMatmul(m.CppGflops), 2),9}");
        w.WriteLine($"  {"C#",-8}{m.CsharpThreads,9}{F(m.CsharpGflops, 1),10}{F(MsPerMatmul(m.CsharpGflops), 2),9}");
        w.WriteLine($"  ratio C#/C++ {F(ratio, 3)} (target >= {F(MatmulRatioTarget, 2)}, i.e. within 5%)");
        w.WriteLine();
        _results.Add($"RESULT name=matmul1024_gflops csharp={F(m.CsharpGflops, 1)} cpp={F(m.CppGflops, 1)} ratio={F(ratio, 3)} " +
                     $"target=ratio>={F(MatmulRatioTarget, 2)} met={(ratio >= MatmulRatioTarget ? "yes" : "no")}");
    }

    public void Breakdown(SmallOps.Result add, IReadOnlyList<OverheadBreakdown.Component> components)
    {
        var (cpp, cabi) = (add.CppUs, add.CabiUs);
        w.WriteLine("Where the extra time of `add` goes (us per op, by difference of the columns above)");
        w.WriteLine($"  {"native C ABI layer (heap handle, status, op switch)",-62}{F(cabi - cpp, 3),9}   C ABI - C++");
        w.WriteLine($"  {"P/Invoke transitions (2 calls)",-62}{F(add.PInvokeUs - cabi, 3),9}   pinvoke - C ABI");
        w.WriteLine($"  {"managed wrapper, no scope (Tensor object, grad mode, counter)",-62}{F(add.DisposeUs - add.PInvokeUs, 3),9}   dispose - pinvoke");
        w.WriteLine($"  {"DisposeScope ownership instead of explicit Dispose",-62}{F(add.ScopeUs - add.DisposeUs, 3),9}   scope - dispose");
        w.WriteLine($"  {"explicit Dispose while a scope is current",-62}{F(add.DisposeInScopeUs - add.DisposeUs, 3),9}   dispose-in-scope - dispose");
        w.WriteLine();
        w.WriteLine("Parts of the wrapper timed alone (nanoseconds each, thread CPU time)");
        foreach (var c in components)
            w.WriteLine($"  {c.Name,-62}{F(c.NsPerOp, 1),9}   {c.PerOp}");
        w.WriteLine();
    }

    public void Results()
    {
        foreach (var line in _results) w.WriteLine(line);
    }
}
