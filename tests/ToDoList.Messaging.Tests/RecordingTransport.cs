using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests;

/// <summary>A transport that keeps what is published to it and delivers nothing: for what the bus sends.</summary>
public sealed class RecordingTransport : ITransport
{
    private readonly List<Message> _published = [];
    private TaskCompletionSource? _hold;

    public string Name => "recording";

    public bool IsConnected => true;

    public IReadOnlyList<Message> Published
    {
        get
        {
            lock (_published)
            {
                return [.. _published];
            }
        }
    }

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The next publish waits until the returned source completes.</summary>
    public TaskCompletionSource HoldNextPublish()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = hold;
        return hold;
    }

    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _hold, null) is { } hold)
        {
            await hold.Task;
        }

        lock (_published)
        {
            _published.Add(message);
        }
    }

    public ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The recording transport only records publishes.");

    public ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The recording transport only records publishes.");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A clock that stands still.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
