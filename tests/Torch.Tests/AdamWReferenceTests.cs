using System.Globalization;
using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>Our AdamW against torch.optim.AdamW (fixture) and against the update rule worked out by hand.</summary>
public class AdamWReferenceTests
{
    /// <summary>
    /// adamw_reference.safetensors: a (3, 4) matrix with weight decay and a (4) vector without, five
    /// steps with a different learning rate each, the vector left without a gradient at one step,
    /// and torch's parameters after every step. Float64 must agree to rounding; float32 to ~1e-6.
    /// </summary>
    [Theory]
    [InlineData("f64", 1e-12)]
    [InlineData("f32", 1e-6)]
    public void FiveStepsMatchTorch(string variant, double tolerance)
    {
        using var scope = DisposeScope.Begin();
        using var fixture = LoadedTensors.Load(FixtureFiles.PathOf("adamw_reference.safetensors"));
        double Meta(string key) => double.Parse(fixture.Metadata[key], CultureInfo.InvariantCulture);
        var steps = int.Parse(fixture.Metadata["steps"], CultureInfo.InvariantCulture);
        var learningRates = fixture["lr"].ToArray<double>();
        Assert.Equal(steps, learningRates.Length);

        using var matrix = new Parameter(fixture[$"{variant}.init.matrix"]);
        using var vector = new Parameter(fixture[$"{variant}.init.vector"]);
        using var optimizer = new AdamW(
        [
            new ParameterGroup([matrix], learningRates[0], Meta("matrix_weight_decay"), Meta("beta1"), Meta("beta2"), Meta("eps")),
            new ParameterGroup([vector], learningRates[0], Meta("vector_weight_decay"), Meta("beta1"), Meta("beta2"), Meta("eps")),
        ]);

        var vectorSteps = 0;
        for (var k = 0; k < steps; k++)
        {
            optimizer.SetLearningRate(learningRates[k]);
            matrix.Grad = fixture[$"{variant}.grad{k}.matrix"];
            var vectorGrad = fixture.Tensors.GetValueOrDefault($"{variant}.grad{k}.vector");
            vector.Grad = vectorGrad;
            if (vectorGrad != null) vectorSteps++;

            optimizer.Step();

            TensorAssert.Close(fixture[$"{variant}.after{k}.matrix"], matrix, tolerance, $"{variant} matrix after step {k}");
            TensorAssert.Close(fixture[$"{variant}.after{k}.vector"], vector, tolerance, $"{variant} vector after step {k}");
        }

        // The step the vector had no gradient for was skipped for it alone, as in torch.
        Assert.Equal(steps - 1, vectorSteps);
        Assert.Equal(steps, optimizer.GetState(0).Step);
        Assert.Equal(vectorSteps, optimizer.GetState(1).Step);
        Assert.Equal(learningRates[^1], optimizer.LearningRate(1));
    }

    /// <summary>
    /// Two steps on one parameter, checked against the textbook AdamW rule (decoupled weight decay,
    /// bias-corrected moments, eps added to the corrected root) evaluated here in double arithmetic.
    /// </summary>
    [Fact]
    public void TwoStepsOnOneParameterMatchTheRuleWorkedOutByHand()
    {
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, decay = 0.01;
        const double p0 = 1.0, g1 = 0.5, g2 = -0.25, lr1 = 0.1, lr2 = 0.05;

        // Step 1: with zero initial moments the corrected ratio is g / (|g| + eps).
        var p1 = p0 * (1 - lr1 * decay) - lr1 * g1 / (Math.Abs(g1) + eps);
        // Step 2: the moments remember step 1.
        var m2 = beta1 * (1 - beta1) * g1 + (1 - beta1) * g2;
        var v2 = beta2 * (1 - beta2) * g1 * g1 + (1 - beta2) * g2 * g2;
        var mHat = m2 / (1 - beta1 * beta1);
        var vHat = v2 / (1 - beta2 * beta2);
        var p2 = p1 * (1 - lr2 * decay) - lr2 * mHat / (Math.Sqrt(vHat) + eps);
        Assert.True(Math.Abs(p2 - p1) > 1e-3, "the second step must move the parameter noticeably");

        using var scope = DisposeScope.Begin();
        using var p = new Parameter(Tensor.FromArray(new[] { p0 }));
        using var optimizer = new AdamW([new ParameterGroup([p], lr1, decay, beta1, beta2, eps)]);

        p.Grad = Tensor.FromArray(new[] { g1 });
        optimizer.Step();
        Assert.Equal(p1, p.ToArray<double>()[0], 1e-12 * Math.Abs(p1));

        p.Grad = Tensor.FromArray(new[] { g2 });
        optimizer.SetLearningRate(lr2);
        optimizer.Step();
        Assert.Equal(p2, p.ToArray<double>()[0], 1e-12 * Math.Abs(p2));

        var (step, expAvg, expAvgSq) = optimizer.GetState(0);
        using (expAvg)
        using (expAvgSq)
        {
            Assert.Equal(2, step);
            Assert.Equal(m2, expAvg!.ToArray<double>()[0], 1e-15);
            Assert.Equal(v2, expAvgSq!.ToArray<double>()[0], 1e-15);
        }
    }

    [Fact]
    public void AParameterWithoutAGradientIsLeftAlone()
    {
        using var scope = DisposeScope.Begin();
        using var p = new Parameter(Tensor.FromArray(new[] { 2.0, -3.0 }));
        using var optimizer = new AdamW([new ParameterGroup([p], 0.1, WeightDecay: 0.5)]);

        optimizer.Step();

        Assert.Equal([2.0, -3.0], p.ToArray<double>());
        Assert.Equal(0, optimizer.GetState(0).Step);
    }
}
