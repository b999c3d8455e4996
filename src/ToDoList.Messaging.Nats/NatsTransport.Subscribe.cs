using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Nats;

public sealed partial class NatsTransport
{
    private const int ConsumerNotFound = 10014;
    private const int FilterNotCaptured = 10093;

    /// <summary>
    /// Deliveries a group's members may hold unacknowledged together (the server's default is 1,000). Room for several
    /// members' prefetch: with less, a member whose batch waits a moment for more (<see cref="SubscribeOptions.BatchWait"/>)
    /// left the server waiting for acknowledgements, and a backlog drained a fifth slower.
    /// </summary>
    private const int MaxAckPending = 8192;

    public async ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Subjects.ValidateSubscribe(request.Subject);
        ThrowIfNotConnected();
        return request.Durable ? await SubscribeDurableAsync(request, cancellationToken).ConfigureAwait(false) : await SubscribeCoreAsync(request, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken) =>
        DeclareDurableGroupsAsync([request], cancellationToken);

    /// <summary>A stream made here captures every declared group's subject of its first token at once: it is never updated for them.</summary>
    public async ValueTask DeclareDurableGroupsAsync(IReadOnlyList<DurableGroupRequest> requests, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ThrowIfNotConnected();
        foreach (var request in requests)
        {
            Subjects.ValidateSubscribe(request.Subject);
        }

        foreach (var request in requests)
        {
            var token = JetStreamNames.FirstToken(request.Subject);
            var alongside = requests.Select(r => r.Subject).Where(s => JetStreamNames.FirstToken(s) == token);
            await EnsureDurableGroupAsync(request, adoptAckWait: false, alongside, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What a durable subscription asks of its group.</summary>
    internal static DurableGroupRequest GroupOf(SubscriptionRequest request) => new(request.Subject, request.QueueGroup!, request.AckWait);

    /// <summary>
    /// Makes the durable group's consumer, or finds it: a pull consumer that members share, acknowledged one by one.
    /// A member (<paramref name="adoptAckWait"/>) sets the consumer's ack wait to its own (and an older consumer's
    /// <see cref="MaxAckPending"/> to ours); a declaration leaves an existing consumer as it is.
    /// </summary>
    internal async Task<INatsJSConsumer> EnsureConsumerAsync(DurableGroupRequest group, string stream, bool adoptAckWait, CancellationToken cancellationToken)
    {
        var name = JetStreamNames.ConsumerFor(group.Group);
        for (var attempt = 1; ; attempt++)
        {
            INatsJSConsumer? existing = null;
            try
            {
                existing = await _jetStream!.GetConsumerAsync(stream, name, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == ConsumerNotFound)
            {
            }

            if (existing is not null)
            {
                var config = existing.Info.Config;
                if (config.FilterSubject != group.Subject)
                {
                    throw new TransportException($"The durable group '{group.Group}' is bound to '{config.FilterSubject}', not '{group.Subject}' (consumer {name} of stream {stream}).");
                }

                if (!adoptAckWait || (config.AckWait == group.AckWait && config.MaxAckPending >= MaxAckPending))
                {
                    return existing;
                }

                config.AckWait = group.AckWait;
                config.MaxAckPending = Math.Max(config.MaxAckPending, MaxAckPending);
                return await _jetStream!.CreateOrUpdateConsumerAsync(stream, config, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await _jetStream!.CreateOrUpdateConsumerAsync(
                    stream,
                    new ConsumerConfig(name)
                    {
                        FilterSubject = group.Subject,
                        AckPolicy = ConsumerConfigAckPolicy.Explicit,
                        AckWait = group.AckWait,
                        // The bus counts tries and moves a message to the dead letters itself.
                        MaxDeliver = -1,
                        MaxAckPending = MaxAckPending,
                        // A new group starts with what is published from now on, as on every transport.
                        DeliverPolicy = ConsumerConfigDeliverPolicy.New,
                        ReplayPolicy = ConsumerConfigReplayPolicy.Instant,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException) when (attempt < 3)
            {
                // Another member made it meanwhile, otherwise: look again.
            }
        }
    }

    private void ThrowIfNotConnected()
    {
        if (_publisher is null || _subscriber is null)
        {
            throw new TransportException($"The NATS transport to {SafeUrl} is not connected: call ConnectAsync first.");
        }
    }

    /// <summary>The stream and the consumer of a durable group, made if missing: the one place a subscription and a declaration make them.</summary>
    private async Task<(string Stream, INatsJSConsumer Consumer)> EnsureDurableGroupAsync(DurableGroupRequest group, bool adoptAckWait, IEnumerable<string> alongside, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(group.Group))
        {
            throw new ArgumentException("A durable group needs a name, which names its consumer.", nameof(group));
        }

        if (_publisher!.ServerInfo is { JetStreamAvailable: false })
        {
            throw new TransportException($"The NATS server at {SafeUrl} has no JetStream, which durable groups need: start it with JetStream on (nats-server -js, or 'jetstream {{}}' in its configuration).");
        }

        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var stream = await _streams!.EnsureStreamAsync(group.Subject, alongside, cancellationToken).ConfigureAwait(false);
                INatsJSConsumer consumer;
                try
                {
                    consumer = await EnsureConsumerAsync(group, stream, adoptAckWait, cancellationToken).ConfigureAwait(false);
                }
                catch (NatsJSApiException e) when (e.Error.ErrCode == FilterNotCaptured && attempt < 5)
                {
                    // Another process rewrote the stream's subjects from a config read before ours was added: add it again.
                    _streams.Forget();
                    continue;
                }

                // Once the consumer exists, a rewrite of the stream's subjects keeps its filter; until then, one may drop it.
                if (!await _streams.CapturesAsync(stream, group.Subject, cancellationToken).ConfigureAwait(false) && attempt < 5)
                {
                    continue;
                }

                Log.DurableReady(_logger, group.Group, group.Subject, stream, consumer.Info.Name);
                return (stream, consumer);
            }
        }
        catch (NatsJSApiException e)
        {
            throw new TransportException($"JetStream on NATS at {SafeUrl} refused the durable group '{group.Group}' on '{group.Subject}': {e.Error.Description} ({e.Error.ErrCode}).", e);
        }
        catch (NatsException e)
        {
            throw new TransportException($"Could not set up the durable group '{group.Group}' on '{group.Subject}' at NATS {SafeUrl}: {e.Message}", e);
        }
    }

    private async Task<ITransportSubscription> SubscribeCoreAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        // No-responders comes back only on the connection that published the request: reply inboxes live there.
        var connection = request.Subject.StartsWith(Subjects.InboxPrefix, StringComparison.Ordinal) ? _publisher! : _subscriber!;
        var opts = new NatsSubOpts
        {
            ChannelOpts = new NatsSubChannelOpts { Capacity = request.Capacity, FullMode = BoundedChannelFullMode.Wait },
        };
        var subscription = await connection.SubscribeCoreAsync(request.Subject, request.QueueGroup, NatsMessages.Raw, opts, cancellationToken).ConfigureAwait(false);

        // Once the server answered the ping it has the subscription: nothing published after this returns is missed.
        await connection.PingAsync(cancellationToken).ConfigureAwait(false);
        return new CoreSubscription(subscription);
    }

    private async Task<ITransportSubscription> SubscribeDurableAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.QueueGroup))
        {
            throw new ArgumentException("A durable subscription needs a queue group, which names its consumer.", nameof(request));
        }

        var (stream, consumer) = await EnsureDurableGroupAsync(GroupOf(request), adoptAckWait: true, alongside: [], cancellationToken).ConfigureAwait(false);
        var subscription = new DurableSubscription(this, request, stream, consumer, _logger);
        _durables[subscription] = 0;
        subscription.Start();
        return subscription;
    }
}
