using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>
/// Scopes follow the async flow, not the thread, and every tensor is released exactly once however
/// many tasks and threads dispose it. In the serial collection: the tests compare the process-wide
/// live count with its value at the start (see <see cref="ProcessWideTensorCount"/>).
/// </summary>
[Collection(ProcessWideTensorCount.Name)]
public class DisposeScopeAsyncTests
{
    [Fact]
    public async Task TensorsSharedByParallelTasksAcrossAwaitsAreReleasedExactlyOnce()
    {
        const int tasks = 32;
        var start = ProcessWideTensorCount.Settle();
        var scope = DisposeScope.Begin();
        Tensor[] shared;
        try
        {
            shared = Enumerable.Range(0, 2 * tasks).Select(i => Tensor.Full([8, 8], i)).ToArray(); // (8, 8) each
            var sums = new double[tasks];
            var readers = tasks;
            var allRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            var work = Enumerable.Range(0, tasks).Select(k => Task.Run(async () =>
            {
                await Task.Yield();
                // The scope flows into the task: what the task creates joins it (from many threads at once).
                var product = shared[k].MatMul(shared[k + tasks]); // (8, 8)
                await Task.Delay(1);
                sums[k] = product.Sum().Item();                    // the sum stays with the scope
                product.Dispose();
                if (Interlocked.Decrement(ref readers) == 0) allRead.SetResult();
                await allRead.Task;
                // Every tensor of the first half is disposed by two tasks, each twice, at about the same time.
                shared[k].Dispose();
                await Task.Yield();
                shared[(k + 1) % tasks].Dispose();
                shared[k].Dispose();
            })).ToArray();
            await Task.WhenAll(work);

            for (var k = 0; k < tasks; k++) Assert.Equal(64.0 * 8 * k * (k + tasks), sums[k]);
            Assert.All(shared.Take(tasks), t => Assert.True(t.IsDisposed));
            Assert.All(shared.Skip(tasks), t => Assert.False(t.IsDisposed));
            // Left to the scope: the second half and the sums.
            Assert.Equal(2 * tasks, scope.Count);
            Assert.Equal(start + 2 * tasks, Tensor.LiveCount);

            // The scope's own Dispose races with threads disposing the tensors it still owns.
            DisposeConcurrentlyWithScope(scope, shared.Skip(tasks).ToArray());
        }
        finally
        {
            scope.Dispose();
        }

        Assert.All(shared, t => Assert.True(t.IsDisposed));
        Assert.Equal(0, scope.Count);
        Assert.Equal(start, Tensor.LiveCount);
    }

    /// <summary>Releases a barrier of dedicated threads that dispose the tensors while this thread disposes the scope.</summary>
    private static void DisposeConcurrentlyWithScope(DisposeScope scope, Tensor[] tensors)
    {
        const int threads = 4;
        using var go = new Barrier(threads + 1);
        var errors = new List<Exception>();
        var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
        {
            go.SignalAndWait();
            try
            {
                for (var i = w; i < tensors.Length; i += threads) tensors[i].Dispose();
                for (var i = tensors.Length - 1 - w; i >= 0; i -= threads) tensors[i].Dispose();
            }
            catch (Exception e)
            {
                lock (errors) errors.Add(e);
            }
        })).ToArray();
        foreach (var t in workers) t.Start();
        go.SignalAndWait();
        scope.Dispose();
        foreach (var t in workers) t.Join();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task AScopeBegunBeforeAnAwaitOwnsTensorsCreatedAfterItOnAnotherThread()
    {
        var start = ProcessWideTensorCount.Settle();
        Tensor afterAwait = null!, inTask = null!;
        // Run where there is no synchronization context, so that the code after an await runs on
        // the thread that completed the awaited task.
        await Task.Run(async () =>
        {
            using (var scope = DisposeScope.Begin())
            {
                var threadBefore = Environment.CurrentManagedThreadId;
                var resumed = new TaskCompletionSource();
                var completer = new Thread(() =>
                {
                    Thread.Sleep(10);
                    resumed.SetResult();
                });
                completer.Start();
                await resumed.Task;
                Assert.Equal(completer.ManagedThreadId, Environment.CurrentManagedThreadId);
                Assert.NotEqual(threadBefore, Environment.CurrentManagedThreadId);

                afterAwait = Tensor.Ones([4]);
                inTask = await Task.Run(() => Tensor.Zeros([4]));

                Assert.Same(scope, DisposeScope.Current);
                Assert.Equal(2, scope.Count);
                Assert.Equal(start + 2, Tensor.LiveCount);
            }
            Assert.Null(DisposeScope.Current);
        });

        Assert.True(afterAwait.IsDisposed);
        Assert.True(inTask.IsDisposed);
        Assert.Null(DisposeScope.Current);
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public async Task ScopesOfConcurrentFlowsDoNotMix()
    {
        var start = ProcessWideTensorCount.Settle();
        async Task<(DisposeScope Scope, Tensor Tensor)> Flow(int delay)
        {
            var scope = DisposeScope.Begin();
            await Task.Delay(delay);
            return (scope, Tensor.Ones([2]));
        }

        var results = await Task.WhenAll(Flow(5), Flow(1), Flow(3));

        // Each tensor joined the scope its own flow began, and none leaked into the caller's flow.
        Assert.Null(DisposeScope.Current);
        foreach (var (scope, tensor) in results)
        {
            Assert.Equal(1, scope.Count);
            scope.Dispose();
            Assert.True(tensor.IsDisposed);
        }
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void MoveToOuterHandsATensorToTheEnclosingScope()
    {
        var start = ProcessWideTensorCount.Settle();
        Tensor kept, dropped;
        using (var outer = DisposeScope.Begin())
        {
            using (var inner = DisposeScope.Begin())
            {
                kept = inner.MoveToOuter(Tensor.Ones([2]));
                dropped = Tensor.Zeros([2]);
                Assert.Equal(1, inner.Count);
                Assert.Equal(1, outer.Count);
            }
            Assert.True(dropped.IsDisposed);
            Assert.False(kept.IsDisposed);
            Assert.Equal([1f, 1f], kept.ToArray<float>());
            Assert.Same(outer, DisposeScope.Current);
        }
        Assert.True(kept.IsDisposed);
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void MoveToOuterFromTheOutermostScopeLeavesTheCallerOwningTheTensor()
    {
        var start = ProcessWideTensorCount.Settle();
        Tensor kept;
        using (var only = DisposeScope.Begin())
        {
            kept = only.MoveToOuter(Tensor.Ones([2]));
            Assert.Equal(0, only.Count);
        }
        Assert.False(kept.IsDisposed);
        Assert.Equal(start + 1, Tensor.LiveCount);
        kept.Dispose();
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void MoveToOuterRefusesATensorTheScopeDoesNotOwn()
    {
        using var outer = DisposeScope.Begin();
        var fromOuter = Tensor.Ones([2]);
        using var inner = DisposeScope.Begin();

        Assert.Throws<InvalidOperationException>(() => inner.MoveToOuter(fromOuter));
        Assert.False(fromOuter.IsDisposed);
        Assert.Equal(1, outer.Count);
    }
}
