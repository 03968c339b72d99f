using System.Globalization;
using System.Text;

namespace Orleans.MoE.Torch.Tests;

/// <summary>Settings of one gradient check.</summary>
internal sealed record GradCheckOptions
{
    /// <summary>Half-width ε of the central difference (L(x + ε) − L(x − ε)) / 2ε.</summary>
    public double Step { get; init; } = 1e-6;

    /// <summary>An element passes when |analytic − numeric| ≤ Tolerance · (1 + |numeric|).</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>Seed of the random upstream gradients.</summary>
    public ulong Seed { get; init; } = 20_251_122;
}

/// <summary>One gradient element where backpropagation and finite differences disagree.</summary>
internal sealed record GradCheckMismatch(int Input, long[] Index, double Analytic, double Numeric);

internal sealed class GradCheckReport(
    IReadOnlyList<GradCheckMismatch> mismatches, IReadOnlyList<int> inputsWithoutEffect, double maxError, long elementsChecked)
{
    public IReadOnlyList<GradCheckMismatch> Mismatches { get; } = mismatches;

    /// <summary>Inputs whose every numeric and analytic derivative is zero: a check of them could not fail.</summary>
    public IReadOnlyList<int> InputsWithoutEffect { get; } = inputsWithoutEffect;

    public double MaxError { get; } = maxError;

    public long ElementsChecked { get; } = elementsChecked;

    public bool Passed => Mismatches.Count == 0 && InputsWithoutEffect.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"gradient check over {ElementsChecked} elements: {Mismatches.Count} mismatches, max |analytic - numeric| = {MaxError:E3}");
        foreach (var m in Mismatches.Take(12))
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture,
                $"  input {m.Input} [{string.Join(", ", m.Index)}]: analytic {m.Analytic:R}, numeric {m.Numeric:R}");
        }
        if (Mismatches.Count > 12) text.AppendLine().Append(CultureInfo.InvariantCulture, $"  ... and {Mismatches.Count - 12} more");
        foreach (var i in InputsWithoutEffect)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture,
                $"  input {i} does not affect the output (all derivatives zero): choose inputs that exercise the gradient");
        }
        return text.ToString();
    }
}

/// <summary>
/// Compares autograd's gradients with central finite differences, in float64.
/// <para>
/// For outputs y_k = f(x_0, x_1, ...) and fixed random upstream gradients u_k, the analytic side
/// backpropagates each u_k from its y_k (accumulating into the leaves); the numeric side
/// differentiates the scalar L(x) = Σ_k ⟨u_k, y_k⟩ by (L(x + ε e_j) − L(x − ε e_j)) / 2ε for every
/// element j of every input, evaluating f under no-grad on fresh tensors each time. A random
/// upstream gradient (rather than a plain sum) makes every output element count with a different
/// weight, so a gradient routed to the wrong position, or summed where it should be weighted,
/// shows up.
/// </para>
/// <para>
/// f must be deterministic (pass a generator reset to the same state for random operations) and
/// every input and output must be Float64: float32 rounding (~1e-7) divided by ε would swamp the
/// comparison.
/// </para>
/// </summary>
internal static class GradCheck
{
    public static void Assert(Func<Tensor, Tensor> function, Tensor input, GradCheckOptions? options = null) =>
        ThrowIfFailed(Compare(xs => [function(xs[0])], [input], options));

    public static void Assert(Func<Tensor[], Tensor> function, Tensor[] inputs, GradCheckOptions? options = null) =>
        ThrowIfFailed(Compare(xs => [function(xs)], inputs, options));

    /// <summary>For operations with several outputs (split, chunk): each output gets its own upstream gradient.</summary>
    public static void AssertOutputs(Func<Tensor[], Tensor[]> function, Tensor[] inputs, GradCheckOptions? options = null) =>
        ThrowIfFailed(Compare(function, inputs, options));

    public static GradCheckReport Compare(Func<Tensor[], Tensor[]> function, Tensor[] inputs, GradCheckOptions? options = null)
    {
        options ??= new GradCheckOptions();
        var shapes = inputs.Select(t => t.Shape).ToArray();
        var values = inputs.Select((t, i) => ReadFloat64(t, $"input {i}")).ToArray();

        var (upstream, analytic) = Backpropagate(function, values, shapes, options.Seed);
        var numeric = FiniteDifferences(function, values, shapes, upstream, options.Step);

        var mismatches = new List<GradCheckMismatch>();
        var withoutEffect = new List<int>();
        var maxError = 0.0;
        long checkedCount = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var anyNonZero = false;
            for (var j = 0; j < values[i].Length; j++)
            {
                var (a, n) = (analytic[i][j], numeric[i][j]);
                var error = Math.Abs(a - n);
                maxError = Math.Max(maxError, double.IsNaN(error) ? double.PositiveInfinity : error);
                if (!(error <= options.Tolerance * (1 + Math.Abs(n))))
                    mismatches.Add(new GradCheckMismatch(i, Unravel(j, shapes[i]), a, n));
                anyNonZero |= Math.Abs(a) > 1e-12 || Math.Abs(n) > 1e-12;
                checkedCount++;
            }
            if (!anyNonZero) withoutEffect.Add(i);
        }
        return new GradCheckReport(mismatches, withoutEffect, maxError, checkedCount);
    }

    private static void ThrowIfFailed(GradCheckReport report)
    {
        if (!report.Passed) Xunit.Assert.Fail(report.ToString());
    }

    /// <summary>Runs f on leaves that require grad and backpropagates a random upstream gradient from each output.</summary>
    private static (double[][] Upstream, double[][] Analytic) Backpropagate(
        Func<Tensor[], Tensor[]> function, double[][] values, long[][] shapes, ulong seed)
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(seed);
        var leaves = values.Select((v, i) => Tensor.FromArray<double>(v, shapes[i]).RequiresGrad_()).ToArray();
        var outputs = function(leaves);
        var upstream = outputs
            .Select((o, k) => ReadFloat64(Tensor.Randn(o.Shape, generator, ScalarType.Float64), $"upstream {k}"))
            .ToArray();

        // Outputs cut from the graph (detach) contribute nothing; backward on them would throw.
        var recorded = Enumerable.Range(0, outputs.Length).Where(k => outputs[k].RequiresGrad).ToArray();
        for (var n = 0; n < recorded.Length; n++)
        {
            var k = recorded[n];
            var output = outputs[k];
            ReadFloat64(output, $"output {k}");
            output.Backward(Tensor.FromArray<double>(upstream[k], output.Shape), retainGraph: n < recorded.Length - 1);
        }

        var analytic = new double[leaves.Length][];
        for (var i = 0; i < leaves.Length; i++)
        {
            var grad = leaves[i].Grad;
            if (grad is null)
            {
                analytic[i] = new double[values[i].Length];
                continue;
            }
            if (!grad.Shape.SequenceEqual(shapes[i]))
                throw new InvalidOperationException(
                    $"the gradient of input {i} has shape [{string.Join(", ", grad.Shape)}], not the input's [{string.Join(", ", shapes[i])}]");
            analytic[i] = ReadFloat64(grad, $"gradient of input {i}");
        }
        return (upstream, analytic);
    }

    private static double[][] FiniteDifferences(
        Func<Tensor[], Tensor[]> function, double[][] values, long[][] shapes, double[][] upstream, double step)
    {
        using var noGrad = GradMode.NoGrad();
        var numeric = values.Select(v => new double[v.Length]).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            for (var j = 0; j < values[i].Length; j++)
            {
                var saved = values[i][j];
                values[i][j] = saved + step;
                var plus = Objective(function, values, shapes, upstream);
                values[i][j] = saved - step;
                var minus = Objective(function, values, shapes, upstream);
                values[i][j] = saved;
                numeric[i][j] = (plus - minus) / (2 * step);
            }
        }
        return numeric;
    }

    /// <summary>L(x) = Σ_k ⟨u_k, f(x)_k⟩.</summary>
    private static double Objective(Func<Tensor[], Tensor[]> function, double[][] values, long[][] shapes, double[][] upstream)
    {
        using var scope = DisposeScope.Begin();
        var inputs = values.Select((v, i) => Tensor.FromArray<double>(v, shapes[i])).ToArray();
        var outputs = function(inputs);
        if (outputs.Length != upstream.Length)
            throw new InvalidOperationException($"the function returned {outputs.Length} outputs, then {upstream.Length}: it must be deterministic");
        var total = 0.0;
        for (var k = 0; k < outputs.Length; k++)
        {
            var y = ReadFloat64(outputs[k], $"output {k}");
            if (y.Length != upstream[k].Length)
                throw new InvalidOperationException($"output {k} changed size between evaluations");
            for (var e = 0; e < y.Length; e++) total += upstream[k][e] * y[e];
        }
        return total;
    }

    private static double[] ReadFloat64(Tensor tensor, string what)
    {
        if (tensor.Dtype != ScalarType.Float64)
            throw new ArgumentException($"{what} is {tensor.Dtype}; gradient checks need Float64 (convert with To(ScalarType.Float64))");
        return tensor.ToArray<double>();
    }

    private static long[] Unravel(long flat, long[] shape)
    {
        var index = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }
}
