using Orleans.MoE.Torch.Tests.Support;
using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// The fused router and expert bank: equal to the composed tensor operations, and their backward equal to
// finite differences.
public class FusedRoutingTests
{
    private const ulong Seed = 61;

    /// <summary>x (G, n, d), router (G, N_e, d), bias (G, N_e) -> gates (G·n, k), global ids (G·n·k), by composed operations.</summary>
    private static (Tensor Gates, Tensor Ids) ComposedRoute(Tensor x, Tensor router, Tensor bias, long k)
    {
        var (groups, tokens, experts) = (x.Size(0), x.Size(1), router.Size(1));
        var logits = x.MatMul(router.Transpose(-2, -1));                              // (G, n, N_e)
        Tensor chosen;
        using (GradMode.NoGrad()) (_, chosen) = (logits + bias.To(x.Dtype).Unsqueeze(1)).TopK(k);   // (G, n, k)
        var offsets = Tensor.Arange(0, (double)groups * experts, experts, ScalarType.Int64).View(groups, 1, 1);
        var gates = logits.Gather(-1, chosen).Softmax(-1).View(groups * tokens, k);   // (G·n, k)
        return (gates, (chosen + offsets).Flatten());
    }

    /// <summary>rows (R, w) -> Σ_k gate · expert(row), one expert at a time, by composed operations (GELU or SwiGLU).</summary>
    private static Tensor ComposedExperts(Tensor rows, Tensor gates, Tensor ids, Tensor up, Tensor? gateWeight, Tensor down)
    {
        var k = gates.Size(-1);
        var idArray = ids.ToArray<long>();
        var output = rows.ZerosLike();
        for (var a = 0; a < idArray.Length; a++)
        {
            var row = rows.Narrow(0, a / k, 1);                                       // (1, w)
            var e = idArray[a];
            var hidden = gateWeight is null
                ? Functional.Linear(row, up.Select(0, e)).Gelu()
                : Functional.Linear(row, gateWeight.Select(0, e)).Silu() * Functional.Linear(row, up.Select(0, e));
            var y = Functional.Linear(hidden, down.Select(0, e)) * gates.Flatten().Narrow(0, a, 1);   // (1, w)
            output = output.IndexAdd(0, Tensor.FromArray(new[] { a / k }, 1), y);
        }
        return output;
    }

    [Theory]
    [InlineData(0)]   // one block of logits per group
    [InlineData(4)]   // several blocks, the last one partial
    public void RouterMatchesTheComposedOperationsForEveryOutputAndGradient(long chunkRows)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Tensor.Randn([3, 13, 6], generator).RequiresGrad_();                  // (G, n, d)
        var router = Tensor.Randn([3, 10, 6], generator).RequiresGrad_();             // (G, N_e, d)
        var bias = Tensor.Randn([3, 10], generator) * 0.5;                            // (G, N_e)
        var probe = Tensor.Randn([39, 3], generator);

        var fused = FusedRouting.Route(x, router, bias, 3, chunkRows);
        (fused.Gates * probe).Sum().Backward();
        var (fusedX, fusedRouter) = (x.Grad!.Clone(), router.Grad!.Clone());
        x.ZeroGrad();
        router.ZeroGrad();
        var (gates, ids) = ComposedRoute(x, router, bias, 3);
        (gates * probe).Sum().Backward();

        Assert.Equal(ids.ToArray<long>(), fused.ExpertIds.ToArray<long>());
        Assert.Equal(ids.BinCount(30).ToArray<long>(), fused.Counts.ToArray<long>());
        Assert.Equal(ids.ArgSort(stable: true).ToArray<long>(), fused.Order.ToArray<long>());
        TensorAssert.Close(gates, fused.Gates, 1e-6, "gates");
        TensorAssert.Close(x.Grad!, fusedX, 1e-5, "gradient of x");
        TensorAssert.Close(router.Grad!, fusedRouter, 1e-5, "gradient of the router");
    }

    [Fact]
    public void RouterBiasChangesTheSelectionButNotTheGates()
    {
        using var scope = DisposeScope.Begin();
        // One token, three experts, logits 3, 2, 1: a bias of +5 on expert 2 selects it with expert 0.
        var x = F64([1], 1, 1, 1);
        var router = F64([3, 2, 1], 1, 3, 1);
        var bias = F64([0, 0, 5], 1, 3).To(ScalarType.Float32);
        var fused = FusedRouting.Route(x, router, bias, 2);
        Assert.Equal([2L, 0], fused.ExpertIds.ToArray<long>());
        var e = Math.Exp(1 - 3.0);   // softmax over the unbiased logits (1, 3)
        AssertClose([e / (1 + e), 1 / (1 + e)], fused.Gates.ToArray<double>());
        Assert.Equal([1L, 0, 1], fused.Counts.ToArray<long>());
        Assert.Equal([1L, 0], fused.Order.ToArray<long>());
    }

    [Fact]
    public void RouterGradientMatchesFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed + 1);
        var x = Randn(generator, 2, 9, 4);                                            // (G, n, d)
        var router = Randn(generator, 2, 7, 4);                                       // (G, N_e, d)
        var bias = Tensor.Randn([2, 7], generator);

        GradCheck.Assert(xs => FusedRouting.Route(xs[0], xs[1], bias, 3, chunkRows: 4).Gates, [x, router]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ExpertsMatchTheComposedOperationsAndFiniteDifferences(bool swiglu)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed + 2);
        var rows = Randn(generator, 7, 4);                                            // (R, w)
        var gates = Tensor.Rand([7, 2], generator, ScalarType.Float64) + 0.1;        // (R, k)
        var up = Randn(generator, 3, 5, 4);                                           // (E, d_e, w)
        var gateWeight = swiglu ? Randn(generator, 3, 5, 4) : null;
        var down = Randn(generator, 3, 4, 5);                                         // (E, w, d_e)
        // Expert 1 gets nothing: its weights must get zero gradients.
        var ids = I64([0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2], 14);
        var order = ids.ArgSort(stable: true);
        var counts = ids.BinCount(3).ToArray<long>();
        Tensor Fused(Tensor[] xs) => FusedRouting.Experts(xs[0], xs[1], order, counts, xs[2], swiglu ? xs[4] : null, xs[3], swiglu);

        Tensor[] inputs = swiglu ? [rows, gates, up, down, gateWeight!] : [rows, gates, up, down];
        using (GradMode.NoGrad())
            TensorAssert.Close(ComposedExperts(rows, gates, ids, up, gateWeight, down), Fused(inputs), 1e-12, "output");
        GradCheck.Assert(Fused, inputs);

        var leaves = inputs.Select(t => t.Clone().RequiresGrad_()).ToArray();
        Fused(leaves).Sum().Backward();
        Assert.All(leaves[2].Grad!.Select(0, 1).Abs().Flatten().ToArray<double>(), g => Assert.Equal(0, g));
    }

    [Fact]
    public void ExpertsWithoutGatesApplyEachGroupedRowItsOwnExpert()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed + 3);
        var rows = Randn(generator, 5, 3);                                            // (R, w), grouped: 2 rows of expert 0, 3 of expert 1
        var up = Randn(generator, 2, 4, 3);
        var down = Randn(generator, 2, 3, 4);
        long[] counts = [2, 3];
        var expected = Tensor.Cat([
            Functional.Linear(Functional.Linear(rows.Narrow(0, 0, 2), up.Select(0, 0)).Gelu(), down.Select(0, 0)),
            Functional.Linear(Functional.Linear(rows.Narrow(0, 2, 3), up.Select(0, 1)).Gelu(), down.Select(0, 1))], 0);

        TensorAssert.Close(expected, FusedRouting.Experts(rows, null, null, counts, up, null, down, swiglu: false), 1e-12, "output");
        GradCheck.Assert(xs => FusedRouting.Experts(xs[0], null, null, counts, xs[1], null, xs[2], swiglu: false), [rows, up, down]);
    }

    [Fact]
    public void ExpertsRejectCountsThatDoNotMatchTheOrder()
    {
        using var scope = DisposeScope.Begin();
        var rows = Tensor.Zeros([2, 3], ScalarType.Float32);
        var up = Tensor.Zeros([2, 4, 3], ScalarType.Float32);
        var down = Tensor.Zeros([2, 3, 4], ScalarType.Float32);
        var gates = Tensor.Zeros([2, 1], ScalarType.Float32);
        var order = I64([0, 1], 2);
        var e = Assert.ThrowsAny<Exception>(() => FusedRouting.Experts(rows, gates, order, [1, 2], up, null, down, swiglu: false));
        Assert.Contains("counts add up to 3 but the order has 2 assignments", e.Message);
    }
}
