namespace ToDoList.Tests;

/// <summary>Waits for something the app does asynchronously by asking again until a deadline, never by sleeping a fixed time.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>Asks <paramref name="probe"/> until it returns a value; fails with <paramref name="what"/> at the deadline.</summary>
    public static async Task<T> Returns<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Timed out after {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s waiting for {what}.");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Asks <paramref name="condition"/> until it holds; fails with <paramref name="what"/> at the deadline.</summary>
    public static Task True(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        Returns(async () => await condition() ? what : null, what, timeout);

    /// <summary>Reads the next message a test subscription received, failing at the deadline.</summary>
    public static async Task<T> Next<T>(System.Threading.Channels.ChannelReader<T> reader, string what, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            return await reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"Timed out after {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s waiting for {what}.");
            throw;
        }
    }
}
