using System.Runtime.CompilerServices;
using Orleans.MoE.Torch.Native;
using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// GradMode.NoGrad follows the async flow: it holds across awaits (whatever thread the continuation
// runs on) and never reaches work that did not start inside it, even on the same thread.
public class GradModeTests
{
    [Fact]
    public void NoGradStopsRecordingUntilDisposed()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();

        Tensor inside;
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            inside = (x * 2.0).Exp();
            Assert.False(inside.RequiresGrad);
            Assert.Throws<TorchException>(() => inside.Sum().Backward());
        }

        Assert.True(GradMode.IsEnabled);
        var after = x * 2.0;
        Assert.True(after.RequiresGrad);
        after.Sum().Backward();
        Assert.Equal([2.0, 2], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void NestedNoGradScopesUnwindInOrder()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1]).RequiresGrad_();

        var outer = GradMode.NoGrad();
        var inner = GradMode.NoGrad();
        inner.Dispose();
        Assert.False((x * 2.0).RequiresGrad);
        inner.Dispose(); // a second dispose must not re-enable recording early
        Assert.False((x * 2.0).RequiresGrad);
        outer.Dispose();
        Assert.True((x * 2.0).RequiresGrad);
    }

    [Fact]
    public async Task NoGradSurvivesAwaits()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();

        using (GradMode.NoGrad())
        {
            await Task.Yield();
            Assert.False((x * 2.0).RequiresGrad);
            await Task.Delay(1);
            Assert.False(x.Exp().RequiresGrad);

            // A thread that has never run an operation: libtorch's flag there is still "enabled".
            var before = Environment.CurrentManagedThreadId;
            await new ContinueOnNewThread();
            Assert.NotEqual(before, Environment.CurrentManagedThreadId);
            Assert.False(x.MatMul(x).RequiresGrad);
        }

        await Task.Yield();
        Assert.True((x * 2.0).RequiresGrad);
    }

    // Two flows interleave on the pool's threads for many awaits; every result must match its own
    // flow's mode, whichever thread the other flow last left in which libtorch mode.
    [Fact]
    public async Task NoGradDoesNotLeakIntoAConcurrentTask()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        var wrong = 0;

        async Task Run(bool noGrad)
        {
            using var mode = noGrad ? GradMode.NoGrad() : null;
            for (var i = 0; i < 200; i++)
            {
                await Task.Yield();
                using var y = x * 2.0;
                if (y.RequiresGrad == noGrad) Interlocked.Increment(ref wrong);
            }
        }

        await Task.WhenAll(Task.Run(() => Run(noGrad: true)), Task.Run(() => Run(noGrad: false)),
            Task.Run(() => Run(noGrad: true)), Task.Run(() => Run(noGrad: false)));

        Assert.Equal(0, wrong);
    }

    // Deterministic version of the above on one thread: a flow that ran under no-grad leaves the
    // thread's libtorch flag disabled; the next flow on that thread must still record.
    [Fact]
    public void NoGradDoesNotLeakToTheNextFlowOnTheSameThread()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        ExecutionContext noGradFlow;
        using (GradMode.NoGrad()) noGradFlow = ExecutionContext.Capture()!;

        var recordedInside = true;
        ExecutionContext.Run(noGradFlow, _ =>
        {
            using var y = x * 2.0;
            recordedInside = y.RequiresGrad;
        }, null);

        Assert.False(recordedInside);
        Assert.True((x * 2.0).RequiresGrad);
    }

    [Fact]
    public async Task TasksStartedAfterNoGradEndsRecord()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();
        using (GradMode.NoGrad()) await Task.Yield();

        var requiresGrad = await Task.Run(() =>
        {
            using var y = x * 2.0;
            return y.RequiresGrad;
        });

        Assert.True(requiresGrad);
    }

    [Fact]
    public async Task TasksStartedInsideNoGradInheritIt()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2]).RequiresGrad_();

        bool requiresGrad;
        using (GradMode.NoGrad())
        {
            requiresGrad = await Task.Run(async () =>
            {
                await Task.Delay(1);
                using var y = x * 2.0;
                return y.RequiresGrad;
            });
        }

        Assert.False(requiresGrad);
    }

    /// <summary>An awaitable whose continuation runs on a brand-new thread (the async flow's context comes along).</summary>
    private readonly struct ContinueOnNewThread : INotifyCompletion
    {
        public ContinueOnNewThread GetAwaiter() => this;

        public bool IsCompleted => false;

        public void OnCompleted(Action continuation) => new Thread(() => continuation()) { IsBackground = true }.Start();

        public void GetResult()
        {
        }
    }
}
