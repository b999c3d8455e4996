using System.Collections.Concurrent;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Embedded;

/// <summary>
/// The in-process transport: the all-in-one default, with nothing installed. Subscribers have
/// bounded buffers and a publisher waits when one is full (never a silent drop); durable groups
/// keep messages until a member acknowledges them.
/// </summary>
public sealed class EmbeddedTransport : ITransport
{
    private readonly object _gate = new();
    private readonly EmbeddedOptions _options;
    private const int MaxCachedRoutes = 10_000;
    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DurableGroup> _durableGroups = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Task _ackWaitLoop;
    private CoreSubscription[] _subscriptions = [];
    private int _version;

    public EmbeddedTransport(string name = "memory", EmbeddedOptions? options = null, TimeProvider? timeProvider = null)
    {
        Name = name;
        _options = options ?? new EmbeddedOptions();
        TimeProvider = timeProvider ?? TimeProvider.System;
        _ackWaitLoop = CheckAckWaitsAsync();
    }

    public string Name { get; }

    public bool IsConnected => !_disposed.IsCancellationRequested;

    internal TimeProvider TimeProvider { get; }

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var route = RouteOf(message.Subject);

        if (route.IsEmpty)
        {
            if (message.ReplyTo is { } replyTo)
            {
                var status = new MessageHeaders { [MessagingHeaders.Status] = MessagingHeaders.NoRespondersStatus };
                await PublishAsync(new Message(replyTo, ReadOnlyMemory<byte>.Empty, status), cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // Durable groups first: if one is full, the publish fails before anyone saw the message.
        for (var i = 0; i < route.DurableGroups.Length; i++)
        {
            if (!route.DurableGroups[i].TryReserve())
            {
                for (var j = 0; j < i; j++)
                {
                    route.DurableGroups[j].Release();
                }

                throw new QueueFullException(route.DurableGroups[i].Name, _options.MaxMessagesPerGroup);
            }
        }

        foreach (var group in route.DurableGroups)
        {
            group.Append(message);
        }

        foreach (var subscription in route.Plain)
        {
            await subscription.WriteAsync(new Delivery(message), cancellationToken).ConfigureAwait(false);
        }

        foreach (var queueGroup in route.QueueGroups)
        {
            await queueGroup.WriteAsync(new Delivery(message), cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Subjects.ValidateSubscribe(request.Subject);
        ITransportSubscription subscription;
        lock (_gate)
        {
            if (request.Durable)
            {
                var name = request.QueueGroup ?? throw new ArgumentException("A durable subscription needs a queue group name.", nameof(request));
                subscription = DurableGroupOf(request.Subject, name).AddMember(request);
            }
            else
            {
                var core = new CoreSubscription(this, request);
                _subscriptions = [.. _subscriptions, core];
                subscription = core;
            }

            Changed();
        }

        return ValueTask.FromResult(subscription);
    }

    public ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Subjects.ValidateSubscribe(request.Subject);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Group, nameof(request));
        lock (_gate)
        {
            DurableGroupOf(request.Subject, request.Group);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        CoreSubscription[] subscriptions;
        lock (_gate)
        {
            subscriptions = _subscriptions;
            _subscriptions = [];
            Changed();
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Complete();
        }

        foreach (var group in _durableGroups.Values)
        {
            group.Complete();
        }

        await _ackWaitLoop.ConfigureAwait(false);
        _disposed.Dispose();
    }

    /// <summary>The durable group of that name, made on first use; called under the gate.</summary>
    private DurableGroup DurableGroupOf(string subject, string name)
    {
        if (_durableGroups.TryGetValue(name, out var group))
        {
            return group.Subject == subject
                ? group
                : throw new TransportException($"The durable group '{name}' is bound to '{group.Subject}', not '{subject}'.");
        }

        group = new DurableGroup(name, subject, _options.MaxMessagesPerGroup, TimeProvider);
        _durableGroups.Add(name, group);

        // Routes cached before it would not store messages for it.
        Changed();
        return group;
    }

    private void Remove(CoreSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = _subscriptions.Where(s => s != subscription).ToArray();
            Changed();
        }
    }

    /// <summary>Who gets a subject, cached until subscriptions change.</summary>
    private Route RouteOf(string subject)
    {
        // A route built while a subscription was being added may be stale: the version tells.
        if (_routes.TryGetValue(subject, out var route) && route.Version == Volatile.Read(ref _version))
        {
            return route;
        }

        route = BuildRoute(subject);
        if (_routes.Count >= MaxCachedRoutes)
        {
            // Reply subjects are unique per request: keep the cache from growing without end.
            _routes.Clear();
        }

        _routes[subject] = route;
        return route;
    }

    /// <summary>Called under the gate whenever subscriptions change.</summary>
    private void Changed()
    {
        Interlocked.Increment(ref _version);
        _routes.Clear();
    }

    private Route BuildRoute(string subject)
    {
        lock (_gate)
        {
            var matching = _subscriptions.Where(s => Subjects.Matches(s.Subject, subject)).ToArray();
            return new Route(
                Plain: matching.Where(s => s.QueueGroup is null).ToArray(),
                QueueGroups: matching.Where(s => s.QueueGroup is not null)
                    .GroupBy(s => s.QueueGroup!, StringComparer.Ordinal)
                    .Select(g => new QueueGroupRoute(g.ToArray()))
                    .ToArray(),
                DurableGroups: _durableGroups.Values.Where(g => Subjects.Matches(g.Subject, subject)).ToArray(),
                Version: _version);
        }
    }

    private async Task CheckAckWaitsAsync()
    {
        using var timer = new PeriodicTimer(_options.AckWaitCheckInterval, TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_disposed.Token).ConfigureAwait(false))
            {
                DurableGroup[] groups;
                lock (_gate)
                {
                    groups = _durableGroups.Values.ToArray();
                }

                foreach (var group in groups)
                {
                    group.RedeliverExpired();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record Route(CoreSubscription[] Plain, QueueGroupRoute[] QueueGroups, DurableGroup[] DurableGroups, int Version)
    {
        public bool IsEmpty => Plain.Length == 0 && QueueGroups.Length == 0 && DurableGroups.Length == 0;
    }

    /// <summary>Members of one queue group matching a subject; each message goes to the next member.</summary>
    private sealed class QueueGroupRoute(CoreSubscription[] members)
    {
        private int _next = -1;

        public async ValueTask WriteAsync(Delivery delivery, CancellationToken cancellationToken)
        {
            for (var tries = 0; tries < members.Length; tries++)
            {
                var member = members[(int)((uint)Interlocked.Increment(ref _next) % (uint)members.Length)];
                if (member.TryWrite(delivery))
                {
                    return;
                }
            }

            // Every member is full: wait on one rather than drop.
            var chosen = members[(int)((uint)Interlocked.Increment(ref _next) % (uint)members.Length)];
            await chosen.WriteAsync(delivery, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class CoreSubscription : ITransportSubscription
    {
        private readonly EmbeddedTransport _transport;
        private readonly Channel<Delivery> _channel;

        public CoreSubscription(EmbeddedTransport transport, SubscriptionRequest request)
        {
            _transport = transport;
            Subject = request.Subject;
            QueueGroup = request.QueueGroup;
            _channel = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(request.Capacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleWriter = false,
                SingleReader = false,
            });
        }

        public string Subject { get; }

        public string? QueueGroup { get; }

        public ChannelReader<Delivery> Deliveries => _channel.Reader;

        public bool TryWrite(Delivery delivery) => _channel.Writer.TryWrite(delivery);

        public async ValueTask WriteAsync(Delivery delivery, CancellationToken cancellationToken)
        {
            if (_channel.Writer.TryWrite(delivery))
            {
                return;
            }

            try
            {
                await _channel.Writer.WriteAsync(delivery, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                // Unsubscribed while the publisher waited: as if it had unsubscribed just before.
            }
        }

        public void Complete() => _channel.Writer.TryComplete();

        public ValueTask DisposeAsync()
        {
            _transport.Remove(this);
            Complete();
            return ValueTask.CompletedTask;
        }
    }
}
