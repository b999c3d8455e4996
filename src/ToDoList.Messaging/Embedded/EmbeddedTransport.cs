using System.Collections.Concurrent;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Embedded;

/// <summary>
/// The in-process transport: the all-in-one default, with nothing installed. Subscribers have
/// bounded buffers and a publisher waits when one is full (never a silent drop); durable groups
/// keep messages until a member acknowledges them: in memory, or with <see cref="EmbeddedOptions.FilePath"/>
/// also in a queue file, where a publish returns once they are committed and a restart finds them again.
/// </summary>
public sealed class EmbeddedTransport : ITransport, ITransportInspector
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
    private DurableStore? _store;

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

    /// <summary>Opens the queue file, if any, and takes back its groups and messages; refuses a file another process holds.</summary>
    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        EnsureOpen();
        return ValueTask.CompletedTask;
    }

    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        EnsureOpen();
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

        var committed = route.DurableGroups.Length > 0 && _store is { } store ? Keep(store, message, route.DurableGroups) : null;
        if (committed is null)
        {
            foreach (var group in route.DurableGroups)
            {
                group.Append(message);
            }
        }

        foreach (var subscription in route.Plain)
        {
            await subscription.WriteAsync(new Delivery(message), cancellationToken).ConfigureAwait(false);
        }

        foreach (var queueGroup in route.QueueGroups)
        {
            await queueGroup.WriteAsync(new Delivery(message), cancellationToken).ConfigureAwait(false);
        }

        // Accepted means kept: the publisher hears back once the file has it (the others got it meanwhile).
        if (committed is not null)
        {
            await committed.ConfigureAwait(false);
        }
    }

    public async ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Subjects.ValidateSubscribe(request.Subject);
        EnsureOpen();
        ITransportSubscription subscription;
        Task? created = null;
        lock (_gate)
        {
            if (request.Durable)
            {
                var name = request.QueueGroup ?? throw new ArgumentException("A durable subscription needs a queue group name.", nameof(request));
                subscription = DurableGroupOf(request.Subject, name, ref created).AddMember(request);
            }
            else
            {
                var core = new CoreSubscription(this, request);
                _subscriptions = [.. _subscriptions, core];
                subscription = core;
            }

            Changed();
        }

        if (created is not null)
        {
            await created.ConfigureAwait(false);
        }

        return subscription;
    }

    /// <summary>The transport's own tables: no connections (everything is in this process), its subscribers and groups.</summary>
    public ValueTask<BrokerView> InspectAsync(CancellationToken cancellationToken)
    {
        CoreSubscription[] subscriptions;
        DurableGroup[] groups;
        lock (_gate)
        {
            subscriptions = _subscriptions;
            groups = [.. _durableGroups.Values];
        }

        var subscribers = subscriptions
            .GroupBy(s => s.Subject, StringComparer.Ordinal)
            .Select(g => new SubjectSubscribers(g.Key, g.Count()))
            .OrderBy(s => s.Subject, StringComparer.Ordinal)
            .ToList();
        var states = groups
            .Select(g => new GroupState(g.Name, g.Subject, g.Ready, g.InFlight, g.Members))
            .OrderBy(g => g.Group, StringComparer.Ordinal)
            .ToList();
        var where = _options.FilePath is { } path ? $"its queue file {Path.GetFileName(path)}" : "memory";
        return ValueTask.FromResult(new BrokerView(
            Name,
            $"the {Name} transport's own tables (in this process, durable groups in {where})",
            [],
            subscribers,
            states,
            ["In process: no connections; every part of the app runs in this process."]));
    }

    public async ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Subjects.ValidateSubscribe(request.Subject);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Group, nameof(request));
        EnsureOpen();
        Task? created = null;
        lock (_gate)
        {
            DurableGroupOf(request.Subject, request.Group, ref created);
        }

        // Declared means kept: a restart finds the group, and it collects before its first member runs.
        if (created is not null)
        {
            await created.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        CoreSubscription[] subscriptions;
        DurableStore? store;
        lock (_gate)
        {
            subscriptions = _subscriptions;
            _subscriptions = [];
            store = _store;
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

        // Writes what is still pending (acknowledgements, deliveries), then releases the file.
        if (store is not null)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }

        _disposed.Dispose();
    }

    /// <summary>Opens the queue file on first use: its groups exist (and collect) from then on, its messages are ready to deliver again.</summary>
    private void EnsureOpen()
    {
        if (_options.FilePath is not { } path || Volatile.Read(ref _store) is not null)
        {
            return;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (_store is not null)
            {
                return;
            }

            var store = DurableStore.Open(path);
            foreach (var stored in store.Groups)
            {
                var group = new DurableGroup(stored.Name, stored.Subject, _options.MaxMessagesPerGroup, TimeProvider, store, stored.Id);
                foreach (var message in stored.Messages)
                {
                    group.Restore(message);
                }

                _durableGroups[stored.Name] = group;
            }

            Volatile.Write(ref _store, store);
            Changed();
        }
    }

    /// <summary>Adds the message to the file for each group, then to the groups; the task completes once the file has it.</summary>
    private static Task Keep(DurableStore store, Message message, DurableGroup[] groups)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < groups.Length; i++)
        {
            var id = store.NextMessageId();
            try
            {
                // The file first: a member may take and acknowledge it the moment it is in the group.
                store.Add(id, groups[i].StoreId, message, i == groups.Length - 1 ? committed : null);
            }
            catch (ObjectDisposedException)
            {
                for (var j = i; j < groups.Length; j++)
                {
                    groups[j].Release();
                }

                throw;
            }

            groups[i].Append(message, id);
        }

        return committed.Task;
    }

    /// <summary>The durable group of that name, made on first use (<paramref name="created"/>: its commit to the file); called under the gate.</summary>
    private DurableGroup DurableGroupOf(string subject, string name, ref Task? created)
    {
        if (_durableGroups.TryGetValue(name, out var group))
        {
            return group.Subject == subject
                ? group
                : throw new TransportException($"The durable group '{name}' is bound to '{group.Subject}', not '{subject}'.");
        }

        var id = _store?.NextGroupId() ?? 0;
        group = new DurableGroup(name, subject, _options.MaxMessagesPerGroup, TimeProvider, _store, id);
        _durableGroups.Add(name, group);
        created = _store?.AddGroup(new StoredGroup(id, name, subject));

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
