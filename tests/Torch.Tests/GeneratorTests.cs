using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Seeded sampling: the same seed gives the same numbers for every random operation, a different
// seed different ones, and a saved state continues exactly where it was saved.
public class GeneratorTests
{
    private static readonly Func<Generator, Tensor>[] Samplers =
    [
        g => Tensor.Randn([64], g, ScalarType.Float64),
        g => Tensor.Rand([64], g),
        g => Tensor.RandInt(0, 1000, [64], g),
        g => Tensor.RandPerm(64, g),
        g => Tensor.Full([64], 0.5).Bernoulli(g),
        g => Functional.Dropout(Tensor.Ones([64]), 0.5, training: true, g),
        g => Tensor.Empty([64]).Normal_(1, 2, g),
        g => Tensor.Empty([64]).Uniform_(-1, 1, g),
    ];

    public static TheoryData<int> SamplerIndices => new(Enumerable.Range(0, Samplers.Length));

    [Theory]
    [MemberData(nameof(SamplerIndices))]
    public void SameSeedSameSamplesDifferentSeedDifferentSamples(int sampler)
    {
        using var scope = DisposeScope.Begin();
        using var a = new Generator(42);
        using var b = new Generator(42);
        using var c = new Generator(43);

        var fromA = Samplers[sampler](a);
        var fromB = Samplers[sampler](b);
        var fromC = Samplers[sampler](c);

        Assert.True(fromA.Equal(fromB));
        Assert.False(fromA.Equal(fromC));
        // The generator advanced: a second draw differs from the first.
        Assert.False(fromA.Equal(Samplers[sampler](a)));
    }

    [Fact]
    public void DropoutMasksAreReproducibleBySeed()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Ones([4, 16], ScalarType.Float64);
        using var a = new Generator(9);
        using var b = new Generator(9);

        var maskA = Functional.Dropout(x, 0.3, training: true, a).Eq(0.0);
        var maskB = Functional.Dropout(x, 0.3, training: true, b).Eq(0.0);

        Assert.True(maskA.Equal(maskB));
        var dropped = maskA.ToArray<bool>().Count(d => d);
        Assert.InRange(dropped, 5, 40); // about 0.3 of 64
    }

    [Fact]
    public void RestoredStateContinuesExactly()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(7);
        Tensor.Randn([10], generator); // move away from the seed's initial state

        var state = generator.GetState();
        var next = Draw(generator);
        var afterThat = Draw(generator);

        generator.SetState(state);
        AssertSameDraws(next, Draw(generator));
        AssertSameDraws(afterThat, Draw(generator));

        // The state carries over to another generator, whatever its seed.
        using var other = new Generator(12345);
        other.SetState(state);
        AssertSameDraws(next, Draw(other));
    }

    [Fact]
    public void GetStateDoesNotAdvanceTheGenerator()
    {
        using var scope = DisposeScope.Begin();
        using var a = new Generator(8);
        using var b = new Generator(8);

        a.GetState();

        Assert.True(Tensor.Randn([8], a).Equal(Tensor.Randn([8], b)));
        Assert.Equal(a.GetState(), b.GetState());
        Assert.Equal(8UL, a.Seed);
    }

    // The default generator is process-wide: this class runs alone (see DefaultGeneratorCollection)
    // so that no other test draws from it between the seeding and the samples.
    [Collection(DefaultGeneratorCollection.Name)]
    public class DefaultGenerator
    {
        [Fact]
        public void ManualSeedMakesTheDefaultGeneratorReproducible()
        {
            using var scope = DisposeScope.Begin();

            TorchRuntime.ManualSeed(2024);
            var first = DrawDefault();
            TorchRuntime.ManualSeed(2024);
            var second = DrawDefault();
            TorchRuntime.ManualSeed(2025);
            var third = DrawDefault();

            for (var i = 0; i < first.Length; i++)
            {
                Assert.True(first[i].Equal(second[i]), $"draw {i} differs under the same seed");
                Assert.False(first[i].Equal(third[i]), $"draw {i} is the same under different seeds");
            }
        }

        private static Tensor[] DrawDefault() =>
        [
            Tensor.Randn([32]),
            Tensor.Rand([32]),
            Tensor.RandInt(0, 1000, [32]),
            Tensor.RandPerm(32),
            Tensor.Full([32], 0.5).Bernoulli(),
            Functional.Dropout(Tensor.Ones([32]), 0.5, training: true),
            Tensor.Empty([32]).Normal_(0, 1),
        ];
    }

    private static (double[] Normal, long[] Ints, long[] Perm) Draw(Generator g) =>
        (Tensor.Randn([16], g, ScalarType.Float64).ToArray<double>(),
         Tensor.RandInt(0, 1 << 30, [16], g).ToArray<long>(),
         Tensor.RandPerm(16, g).ToArray<long>());

    private static void AssertSameDraws((double[], long[], long[]) expected, (double[], long[], long[]) actual)
    {
        Assert.Equal(expected.Item1, actual.Item1);
        Assert.Equal(expected.Item2, actual.Item2);
        Assert.Equal(expected.Item3, actual.Item3);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultGeneratorCollection
{
    public const string Name = "libtorch default generator";
}
