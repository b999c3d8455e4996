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

    internal Subscription(MessageBus bus, ITransportSubscription transportSubscription, string subject, SubscribeOptions options, MessageHandler handler, BatchHandler? batchHandler = null)
    {
        BatchHandler = batchHandler;
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

    /// <summary>Set for <see cref="MessageBus.SubscribeBatchAsync(string, ToDoList.Messaging.BatchHandler, SubscribeOptions?, CancellationToken)"/>: messages are handed over in batches.</summary>
    internal BatchHandler? BatchHandler { get; }

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
            var batch = new List<Delivery>();
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (BatchHandler is not null)
                {
                    // What has arrived, up to MaxBatch: a batch grows with the backlog and stays one message when idle.
                    while (batch.Count < Options.MaxBatch && !_stopping.IsCancellationRequested && reader.TryRead(out var next))
                    {
                        batch.Add(next);
                    }

                    if (batch.Count > 1 && batch.Count < Options.MaxBatch && Options.BatchWait > TimeSpan.Zero)
                    {
                        // Messages are still coming: a moment more gathers a steady stream into fewer, larger batches.
                        await _bus.PauseAsync(Options.BatchWait, _stopping.Token).ConfigureAwait(false);
                        while (batch.Count < Options.MaxBatch && reader.TryRead(out var next))
                        {
                            batch.Add(next);
                        }
                    }

                    if (batch.Count > 0)
                    {
                        await _bus.ProcessBatchAsync(this, batch, _aborting.Token).ConfigureAwait(false);
                        batch.Clear();
                    }

                    continue;
                }

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
