using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging;

/// <summary>
/// The messaging API an application uses: publish, subscribe (plain, queue group, durable),
/// request-response and scatter-gather, with retries and dead letters, over any <see cref="ITransport"/>.
/// </summary>
public sealed partial class MessageBus : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<Subscription> _subscriptions = [];
    private long _published;
    private long _handled;
    private long _failed;
    private long _deadLettered;

    public MessageBus(ITransport transport, MessagingOptions? options = null, ILogger<MessageBus>? logger = null, TimeProvider? timeProvider = null)
    {
        Transport = transport;
        Options = options ?? new MessagingOptions();

        // GetTypeInfo needs a resolver: without one set, use reflection, as JsonSerializer itself would.
        if (!Options.Json.IsReadOnly)
        {
            Options.Json.MakeReadOnly(populateMissingResolver: true);
        }

        _logger = logger ?? NullLogger<MessageBus>.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    public ITransport Transport { get; }

    public MessagingOptions Options { get; }

    public bool IsConnected => Transport.IsConnected;

    /// <summary>Counts since start, for diagnostics.</summary>
    public MessagingStatistics Statistics => new(
        Interlocked.Read(ref _published),
        Interlocked.Read(ref _handled),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _deadLettered));

    public ValueTask ConnectAsync(CancellationToken cancellationToken = default) => Transport.ConnectAsync(cancellationToken);

    /// <summary>Waits <paramref name="delay"/> on the bus's clock; cancelling ends the wait early, without an exception.</summary>
    internal async Task PauseAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// What the broker sees now: connections, subscribers per subject, durable groups with their lag. Also what the
    /// <c>messaging.consumer.lag</c> gauge reports until the next call.
    /// </summary>
    public async ValueTask<BrokerView> InspectBrokerAsync(CancellationToken cancellationToken = default)
    {
        var view = Transport is ITransportInspector inspector
            ? await inspector.InspectAsync(cancellationToken).ConfigureAwait(false)
            : new BrokerView(Transport.Name, "nothing", [], [], [], [$"The {Transport.Name} transport does not show what its broker sees."]);
        MessagingTelemetry.LastBrokerView = view;
        return view;
    }

    /// <summary>Stops every subscription, letting handlers finish the message in hand, then closes the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        Subscription[] subscriptions;
        lock (_subscriptions)
        {
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
        }

        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        if (_inbox is not null)
        {
            await _inbox.DisposeAsync().ConfigureAwait(false);
        }

        await Transport.DisposeAsync().ConfigureAwait(false);
    }

    internal void Forget(Subscription subscription)
    {
        lock (_subscriptions)
        {
            _subscriptions.Remove(subscription);
        }
    }
}

/// <summary>Counts of one bus since it started.</summary>
public readonly record struct MessagingStatistics(long Published, long Handled, long Failed, long DeadLettered);
