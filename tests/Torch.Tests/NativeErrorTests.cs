using Orleans.MoE.Torch.Native;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>
/// A libtorch error becomes a <see cref="TorchException"/> with libtorch's message, on the thread
/// that made the call, and leaves the binding working. In the serial collection because one test
/// counts live tensors (see <see cref="ProcessWideTensorCount"/>).
/// </summary>
[Collection(ProcessWideTensorCount.Name)]
public class NativeErrorTests
{
    [Fact]
    public void AShapeMismatchThrowsLibtorchsMessageAndTheNextOpWorks()
    {
        using var scope = DisposeScope.Begin();
        var a = Tensor.Ones([2, 3]);
        var b = Tensor.Ones([4, 5]);

        var e = Assert.Throws<TorchException>(() => a.MatMul(b));

        Assert.Equal(1, e.Status); // a c10::Error from libtorch itself
        Assert.Contains("cannot be multiplied", e.Message);
        Assert.Contains("2x3", e.Message);
        Assert.Contains("4x5", e.Message);
        Assert.DoesNotContain("Exception raised from", e.Message); // no C++ backtrace in the message

        var c = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        Assert.Equal([9f, 12f, 9f, 12f], a.MatMul(c).ToArray<float>());
    }

    [Fact]
    public void AMessageLongerThanTheFirstBufferArrivesWhole()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Zeros([6]);
        var shape = Enumerable.Repeat(1L, 500).Append(7).ToArray();

        var e = Assert.Throws<TorchException>(() => x.Reshape(shape));

        Assert.True(e.Message.Length > 1024, $"the message should exceed 1 KiB, was {e.Message.Length} characters");
        Assert.StartsWith("shape '[1, 1, 1", e.Message);
        Assert.EndsWith("1, 7]' is invalid for input of size 6", e.Message);

        // The following error is reported as itself, not as leftovers of the long one.
        var next = Assert.Throws<TorchException>(() => Tensor.Ones([2, 3]).MatMul(Tensor.Ones([4, 5])));
        Assert.StartsWith("mat1 and mat2 shapes cannot be multiplied", next.Message);
    }

    [Fact]
    public void AThousandErrorsLeakNoTensorAndBreakNothing()
    {
        var start = ProcessWideTensorCount.Settle();
        using (var outer = DisposeScope.Begin())
        {
            var a = Tensor.Ones([2, 3]);
            var bad = Tensor.Ones([4, 5]);
            var good = Tensor.Ones([3, 2]);
            for (var i = 0; i < 1000; i++)
            {
                using var scope = DisposeScope.Begin();
                var e = Assert.Throws<TorchException>(() => a.MatMul(bad));
                Assert.Contains("2x3 and 4x5", e.Message);
                Assert.Equal(3.0, a.MatMul(good).Sum().Item() / 4);
                Assert.Equal(2, scope.Count); // the product and its sum: the failed call created no tensor
            }
        }
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void AnUnreadErrorMessageBelongsToTheThreadThatFailed()
    {
        // Thread A fails a native call and leaves the message unread; thread B, running in between,
        // finds no message; then A reads its own. Driven through the raw exports so that nothing
        // reads the message early.
        using var scope = DisposeScope.Begin();
        var a = Tensor.Ones([2, 3]);
        var bad = Tensor.Ones([4, 5]);
        using var failed = new ManualResetEventSlim();
        using var checkedOther = new ManualResetEventSlim();
        var status = 0;
        var messageOnA = "";
        var messageOnB = "<not read>";

        var threadA = new Thread(() =>
        {
            status = FailMatMul(a, bad);
            failed.Set();
            checkedOther.Wait();
            messageOnA = LastError();
        });
        var threadB = new Thread(() =>
        {
            failed.Wait();
            messageOnB = LastError();
            checkedOther.Set();
        });
        threadA.Start();
        threadB.Start();
        threadA.Join();
        threadB.Join();

        Assert.Equal(1, status);
        Assert.Equal("", messageOnB);
        Assert.Contains("2x3 and 4x5", messageOnA);
        // Reading the message releases it: a second read on the same thread finds nothing.
        Assert.Equal(1, FailMatMul(a, bad));
        Assert.Contains("2x3 and 4x5", LastError());
        Assert.Equal("", LastError());
    }

    private static unsafe int FailMatMul(Tensor a, Tensor b)
    {
        IntPtr result;
        var status = NativeMethods.moe_binary((int)BinaryOp.Matmul, a.Handle, b.Handle, &result);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return status;
    }

    private static unsafe string LastError()
    {
        var buffer = new byte[4096];
        long length;
        fixed (byte* p = buffer) NativeMethods.moe_last_error(p, buffer.Length, &length);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    [Fact]
    public void AnErrorOnOneThreadIsNotSeenOnAnother()
    {
        // Two threads fail in lock step with different shapes, then one succeeds while the other
        // fails. If the error message were shared, the threads would read each other's shapes; if
        // failures were signalled through shared state, the succeeding thread would see an error.
        const int rounds = 500;
        using var barrier = new Barrier(2);
        var failures = new List<string>();

        void Worker(long rows, long inner)
        {
            try
            {
                using var scope = DisposeScope.Begin();
                var a = Tensor.Ones([rows, inner]);
                var bad = Tensor.Ones([inner + 1, 2]);
                var good = Tensor.Ones([inner, 2]);
                for (var i = 0; i < rounds; i++)
                {
                    barrier.SignalAndWait();
                    var e = Assert.Throws<TorchException>(() => a.MatMul(bad));
                    var expected = $"({rows}x{inner} and {inner + 1}x2)";
                    if (!e.Message.Contains(expected, StringComparison.Ordinal))
                        throw new InvalidOperationException($"expected {expected}, read '{e.Message}'");
                    barrier.SignalAndWait();
                    if (rows == 2)
                    {
                        using var ok = a.MatMul(good); // must not raise the other thread's error
                        Assert.Equal([rows, 2L], ok.Shape);
                    }
                    else
                    {
                        Assert.Throws<TorchException>(() => a.MatMul(bad));
                    }
                }
            }
            catch (Exception e)
            {
                lock (failures) failures.Add(e.ToString());
                barrier.RemoveParticipant();
            }
        }

        var first = new Thread(() => Worker(2, 3));
        var second = new Thread(() => Worker(7, 11));
        first.Start();
        second.Start();
        first.Join();
        second.Join();

        Assert.Empty(failures);
    }
}
