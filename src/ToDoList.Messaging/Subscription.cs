using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging;

/// <summary>A running subscription. Disposing it stops taking messages, lets handlers finish the one in hand, then unsubscribes.</summary>
public sealed class Subscription : IAsyncDisposable
{
    private readonly MessageBus _bus;
    private readonly ITransportSubscription _transportSubscription;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting = new();
    private Task _loops = Task.CompletedTask;
    private int _disposed;

    internal Subscription(MessageBus bus, ITransportSubscription transportSubscription, string subject, SubscribeOptions options, MessageHandler handler)
    {
        _bus = bus;
        _transportSubscription = transportSubscription;
        Subject = subject;
        Options = options;
        Handler = handler;
    }

    public string Subject { get; }

    public SubscribeOptions Options { get; }

    /// <summary>How long disposal waits for handlers to finish before cancelling them. Default 10 s.</summary>
    public static TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal MessageHandler Handler { get; }

    internal void Start() =>
        _loops = Task.WhenAll(Enumerable.Range(0, Options.MaxConcurrency).Select(_ => Task.Run(RunAsync)));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        try
        {
            await _loops.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _aborting.Cancel();
            await _loops.ConfigureAwait(false);
        }

        await _transportSubscription.DisposeAsync().ConfigureAwait(false);
        _bus.Forget(this);
        _stopping.Dispose();
        _aborting.Dispose();
    }

    private async Task RunAsync()
    {
        var reader = _transportSubscription.Deliveries;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (!_stopping.IsCancellationRequested && reader.TryRead(out var delivery))
                {
                    await _bus.ProcessAsync(this, delivery, _aborting.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }
}
