using System.Collections.Concurrent;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ToDoList.Messaging.RabbitMq;

public sealed partial class RabbitMqTransport
{
    private readonly ConcurrentDictionary<string, byte> _delayQueues = new(StringComparer.Ordinal);

    /// <summary>
    /// Persistent, confirmed by the broker before it returns (a durable queue holds it: accepted means
    /// kept). A request (reply subject set) is mandatory: when no queue takes it the broker returns it,
    /// and the requester gets the no-responders status at once. A reply (to an inbox) is not confirmed:
    /// one lost on the way is as lost as one whose requester stopped waiting, and the wait for the broker
    /// lengthened every request's round trip.
    /// </summary>
    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var routingKey = AmqpMessages.RoutingKeyOf(message.Subject);
        var properties = AmqpMessages.ToProperties(message);
        var mandatory = message.ReplyTo is not null;
        var confirmed = mandatory || !message.Subject.StartsWith(Subjects.InboxPrefix, StringComparison.Ordinal);
        try
        {
            await PublishOnChannelAsync(confirmed, _options.Exchange, routingKey, mandatory, properties, message.Data, cancellationToken).ConfigureAwait(false);
        }
        catch (PublishReturnException) when (message.ReplyTo is { } replyTo)
        {
            var status = new MessageHeaders { [MessagingHeaders.Status] = MessagingHeaders.NoRespondersStatus };
            await PublishAsync(new Message(replyTo, ReadOnlyMemory<byte>.Empty, status), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes a durable message again, straight to <paramref name="queue"/> or, after a delay,
    /// through a delay queue: a durable queue with a per-queue TTL of that delay whose expired
    /// messages the broker dead-letters back to <paramref name="queue"/>. No plugin needed, and one
    /// queue per delay keeps each in order (per-message TTLs in one queue expire only at its head).
    /// </summary>
    internal async ValueTask RepublishAsync(string queue, BasicProperties properties, ReadOnlyMemory<byte> body, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            await PublishOnChannelAsync(confirmed: true, "", queue, mandatory: true, properties, body, cancellationToken).ConfigureAwait(false);
            return;
        }

        var delayMs = DelayBucketOf(delay);
        var delayQueue = AmqpMessages.DelayQueueOf(queue, delayMs);
        for (var attempt = 1; ; attempt++)
        {
            if (!_delayQueues.ContainsKey(delayQueue))
            {
                await DeclareAsync(
                    channel => channel.QueueDeclareAsync(
                        delayQueue,
                        durable: true,
                        exclusive: false,
                        autoDelete: false,
                        arguments: new Dictionary<string, object?>
                        {
                            ["x-message-ttl"] = delayMs,
                            ["x-dead-letter-exchange"] = "",
                            ["x-dead-letter-routing-key"] = queue,
                            ["x-expires"] = (long)_options.DelayQueueIdleExpiry.TotalMilliseconds + delayMs,
                        },
                        cancellationToken: cancellationToken),
                    PublisherConnection,
                    cancellationToken).ConfigureAwait(false);
                _delayQueues.TryAdd(delayQueue, 0);
            }

            try
            {
                await PublishOnChannelAsync(confirmed: true, "", delayQueue, mandatory: true, properties, body, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PublishReturnException) when (attempt < 2)
            {
                // The delay queue expired unused since we declared it: declare it again.
                _delayQueues.TryRemove(delayQueue, out _);
            }
        }
    }

    /// <summary>Delays rounded to steps of 2^(1/4) (±9%) above 16 ms, so a few delay queues serve any backoff.</summary>
    internal static long DelayBucketOf(TimeSpan delay)
    {
        var ms = Math.Max(1, (long)Math.Ceiling(delay.TotalMilliseconds));
        if (ms <= 16)
        {
            return ms;
        }

        var step = Math.Round(Math.Log2(ms) * 4);
        return (long)Math.Round(Math.Pow(2, step / 4));
    }

    /// <summary>On the channel with publisher confirms (returns once the broker confirmed), or the one without (returns once sent).</summary>
    private async ValueTask PublishOnChannelAsync(bool confirmed, string exchange, string routingKey, bool mandatory, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var channel = await PublishChannelAsync(confirmed, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishConfirmTimeout);
        try
        {
            await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransportException($"RabbitMQ at {SafeUrl} did not take{(confirmed ? " and confirm" : "")} a message on '{routingKey}' within {_options.PublishConfirmTimeout}: it may or may not be kept.");
        }
        catch (PublishReturnException)
        {
            throw;
        }
        catch (PublishException e)
        {
            throw new TransportException($"RabbitMQ at {SafeUrl} refused a message on '{routingKey}' (nack): it is not kept.", e);
        }
        catch (AlreadyClosedException e)
        {
            throw new TransportException($"Could not publish on '{routingKey}' to RabbitMQ at {SafeUrl}: the connection is closed ({Redacted(e.Message)}); it is recovering.", e);
        }
    }

    /// <summary>
    /// One channel with publisher confirms shared by every publish, and one without for replies; each made again if the
    /// broker closed it.
    /// </summary>
    private async ValueTask<IChannel> PublishChannelAsync(bool confirmed, CancellationToken cancellationToken)
    {
        var channel = Volatile.Read(ref PublishChannel(confirmed));
        if (channel is { IsOpen: true })
        {
            return channel;
        }

        await _publishChannelGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            channel = PublishChannel(confirmed);
            if (channel is { IsOpen: true })
            {
                return channel;
            }

            // Closed by the broker after a channel error (a recovering connection recovers its channels itself).
            if (channel is not null && !PublisherConnection.IsOpen)
            {
                return channel;
            }

            channel?.Dispose();
            var options = new CreateChannelOptions(publisherConfirmationsEnabled: confirmed, publisherConfirmationTrackingEnabled: confirmed);
            channel = await PublisherConnection.CreateChannelAsync(options, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref PublishChannel(confirmed), channel);
            return channel;
        }
        finally
        {
            _publishChannelGate.Release();
        }
    }

    private ref IChannel? PublishChannel(bool confirmed) => ref confirmed ? ref _publishChannel : ref _replyChannel;
}
