using System.Collections.Concurrent;
using System.Globalization;
using RabbitMQ.Client;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.RabbitMq;

/// <summary>
/// A consumer of one queue on a channel of its own, whose prefetch is the subscription's capacity.
/// Plain and queue-group deliveries are acknowledged as they are handed over (at-most-once); durable
/// ones when the bus settles them, or given back when <see cref="SubscriptionRequest.AckWait"/> passes.
/// A member that goes away closes its channel: the broker hands what it held to the other members.
/// </summary>
internal sealed class QueueSubscription : AsyncDefaultBasicConsumer, ITransportSubscription
{
    private readonly RabbitMqTransport _transport;
    private readonly SubscriptionRequest _request;
    private readonly Func<CancellationToken, Task<string>> _declare;
    private string _queue;
    private readonly Channel<Delivery> _deliveries;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<DurableAcknowledgement, byte> _unacknowledged = new();
    private Task _ackWaits = Task.CompletedTask;
    private string? _consumerTag;
    private int _disposed;

    public QueueSubscription(RabbitMqTransport transport, IChannel channel, SubscriptionRequest request, string queue, Func<CancellationToken, Task<string>> declare) : base(channel)
    {
        _declare = declare;
        _transport = transport;
        _request = request;
        _queue = queue;
        _deliveries = System.Threading.Channels.Channel.CreateBounded<Delivery>(new BoundedChannelOptions(Math.Max(1, request.Capacity))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
    }

    public ChannelReader<Delivery> Deliveries => _deliveries.Reader;

    internal bool IsClosed => _disposed != 0;

    public void Start(string consumerTag)
    {
        _consumerTag = consumerTag;
        if (_request.Durable && _request.AckWait > TimeSpan.Zero)
        {
            _ackWaits = CheckAckWaitsAsync();
        }
    }

    public override async Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange, string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        // The client reuses the body's buffer after this returns.
        var data = body.ToArray();
        var (message, previousAttempts) = AmqpMessages.ToMessage(routingKey, properties, data);
        if (!_request.Durable)
        {
            if (await HandOverAsync(new Delivery(message)).ConfigureAwait(false))
            {
                await Channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // Classic queues count nothing: a retry carries its count; a broker redelivery (a member died) adds one.
        var attempt = previousAttempts + 1 + (redelivered ? 1 : 0);
        var deadline = _transport.Time.GetTimestamp() + (long)(_request.AckWait.TotalSeconds * _transport.Time.TimestampFrequency);
        var acknowledgement = new DurableAcknowledgement(this, deliveryTag, redelivered, new BasicProperties(properties), data, message.Subject, attempt, deadline);
        _unacknowledged.TryAdd(acknowledgement, 0);
        if (!await HandOverAsync(new Delivery(message, attempt, acknowledgement)).ConfigureAwait(false))
        {
            // Stopping: left unacknowledged, the broker gives it to another member when the channel closes.
            _unacknowledged.TryRemove(acknowledgement, out _);
        }
    }

    public override Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        if (_disposed == 0)
        {
            // The broker cancelled us (the queue was deleted): make the queue again and go on, off the client's dispatcher.
            Log.ConsumerCancelled(_transport.Logger, _queue, _request.Subject);
            _ = Task.Run(ResumeAsync);
        }

        return base.HandleBasicCancelAsync(consumerTag, cancellationToken);
    }

    private async Task ResumeAsync()
    {
        for (var failures = 0; _disposed == 0; failures++)
        {
            try
            {
                var queue = await _declare(_stopping.Token).ConfigureAwait(false);
                _queue = queue;
                _consumerTag = await Channel.BasicConsumeAsync(queue, autoAck: false, consumerTag: "", noLocal: false, exclusive: false, arguments: null, this, _stopping.Token).ConfigureAwait(false);
                Log.ConsumerResumed(_transport.Logger, queue, _request.Subject);
                return;
            }
            catch (Exception e) when (_disposed == 0 && e is not ObjectDisposedException)
            {
                Log.ResumeFailed(_transport.Logger, _queue, _request.Subject, e);
            }
            catch (Exception) when (_disposed != 0 || _stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, failures))), _transport.Time, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _transport.Forget(this);
        await _ackWaits.ConfigureAwait(false);
        _deliveries.Writer.TryComplete();
        try
        {
            if (_consumerTag is not null && Channel.IsOpen)
            {
                await Channel.BasicCancelAsync(_consumerTag, noWait: false).ConfigureAwait(false);
            }

            // Whatever this member held unacknowledged goes back to the queue, to the other members.
            await Channel.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The connection is gone already: so is the channel, and the broker requeued what it held.
        }

        Channel.Dispose();
        _stopping.Dispose();
    }

    private async ValueTask<bool> HandOverAsync(Delivery delivery)
    {
        try
        {
            await _deliveries.Writer.WriteAsync(delivery, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>AMQP has no ack wait (RabbitMQ's consumer timeout closes the whole channel): a delivery held too long is given back here.</summary>
    private async Task CheckAckWaitsAsync()
    {
        var interval = TimeSpan.FromTicks(Math.Clamp(_request.AckWait.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        using var timer = new PeriodicTimer(interval, _transport.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var now = _transport.Time.GetTimestamp();
                foreach (var acknowledgement in _unacknowledged.Keys)
                {
                    if (acknowledgement.Deadline <= now && acknowledgement.TryClaim())
                    {
                        Log.AckWaitExpired(_transport.Logger, acknowledgement.Subject, _queue, _request.AckWait);
                        await GiveBackAsync(acknowledgement, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private async ValueTask AckAsync(DurableAcknowledgement acknowledgement, CancellationToken cancellationToken)
    {
        _unacknowledged.TryRemove(acknowledgement, out _);
        if (_disposed != 0)
        {
            // The channel closed: the broker gives it to another member; it is not this one's to settle.
            return;
        }

        await Channel.BasicAckAsync(acknowledgement.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Delivers it again after <paramref name="delay"/>: published anew (through a delay queue) with its
    /// try count, then this delivery acknowledged. Should publishing fail, the broker takes it back as is.
    /// At once and for the first time, the broker takes it back itself (nack, requeue): its redelivered
    /// flag then counts the try, and a member that stops meanwhile hands it on unchanged.
    /// </summary>
    private async ValueTask GiveBackAsync(DurableAcknowledgement acknowledgement, TimeSpan delay, CancellationToken cancellationToken)
    {
        _unacknowledged.TryRemove(acknowledgement, out _);
        if (_disposed != 0)
        {
            return;
        }

        if (delay <= TimeSpan.Zero && !acknowledgement.Redelivered)
        {
            await Channel.BasicNackAsync(acknowledgement.DeliveryTag, multiple: false, requeue: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        var properties = acknowledgement.Properties;
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (properties.Headers is { } existing)
        {
            foreach (var (name, value) in existing)
            {
                if (name is not "x-death" && !name.StartsWith("x-first-death-", StringComparison.Ordinal) && !name.StartsWith("x-last-death-", StringComparison.Ordinal))
                {
                    headers[name] = value;
                }
            }
        }

        headers[AmqpMessages.AttemptsHeader] = acknowledgement.Attempt.ToString(CultureInfo.InvariantCulture);
        headers[AmqpMessages.SubjectHeader] = acknowledgement.Subject;
        properties.Headers = headers;
        properties.DeliveryMode = DeliveryModes.Persistent;
        properties.Expiration = null;
        try
        {
            await _transport.RepublishAsync(_queue, properties, acknowledgement.Body, delay, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.GiveBackFailed(_transport.Logger, acknowledgement.Subject, _queue, e);
            await Channel.BasicNackAsync(acknowledgement.DeliveryTag, multiple: false, requeue: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        await Channel.BasicAckAsync(acknowledgement.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One durable delivery; settled once, by the bus or by its ack wait, whichever comes first.</summary>
    private sealed class DurableAcknowledgement(QueueSubscription subscription, ulong deliveryTag, bool redelivered, BasicProperties properties, ReadOnlyMemory<byte> body, string subject, int attempt, long deadline) : IAcknowledgement
    {
        private int _settled;

        public ulong DeliveryTag => deliveryTag;

        public bool Redelivered => redelivered;

        public BasicProperties Properties => properties;

        public ReadOnlyMemory<byte> Body => body;

        public string Subject => subject;

        public int Attempt => attempt;

        public long Deadline => deadline;

        public bool TryClaim() => Interlocked.Exchange(ref _settled, 1) == 0;

        public ValueTask AckAsync(CancellationToken cancellationToken = default) =>
            TryClaim() ? subscription.AckAsync(this, cancellationToken) : ValueTask.CompletedTask;

        public ValueTask NakAsync(TimeSpan delay, CancellationToken cancellationToken = default) =>
            TryClaim() ? subscription.GiveBackAsync(this, delay, cancellationToken) : ValueTask.CompletedTask;
    }
}
