using Microsoft.Extensions.Logging;
using NATS.Client.JetStream;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Nats;

/// <summary>
/// One member of a durable group: pulls from the group's JetStream consumer, which members share
/// (each message to one of them). Survives reconnects and a server restart (the client asks again on
/// reconnect, and again whenever the server's heartbeats stop) and a consumer that vanished (made again).
/// </summary>
internal sealed class DurableSubscription : ITransportSubscription
{
    // A small hand-over to the bus's readers; the consumer's own prefetch is the subscription's capacity.
    private const int HandOver = 512;
    private static readonly TimeSpan StopDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly NatsTransport _transport;
    private readonly SubscriptionRequest _request;
    private readonly string _stream;
    private readonly Channel<Delivery> _deliveries;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    // Pulled by the client but not handed over when stopping: given back after what was handed over, which came first.
    private readonly List<Delivery> _drained = [];
    private INatsJSConsumer _consumer;
    private Task _pump = Task.CompletedTask;
    private int _disposed;

    public DurableSubscription(NatsTransport transport, SubscriptionRequest request, string stream, INatsJSConsumer consumer, ILogger logger)
    {
        _transport = transport;
        _request = request;
        _stream = stream;
        _consumer = consumer;
        _logger = logger;
        _deliveries = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(Math.Min(HandOver, request.Capacity))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
    }

    public ChannelReader<Delivery> Deliveries => _deliveries.Reader;

    public void Start() => _pump = Task.Run(PumpAsync);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        try
        {
            // The drain waits for the server to confirm it sent nothing more (a PING/PONG): bounded, in case the server is away.
            await _pump.WaitAsync(StopDrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // What the client still held comes back after the ack wait.
            Log.StopDrainTimedOut(_logger, _request.QueueGroup, _stream, StopDrainTimeout);
        }

        _transport.Forget(this);

        // Messages handed over but not taken go back at once, to this group's other members, in the order
        // they were pulled: first those handed over, then those the client still held when it stopped.
        while (_deliveries.Reader.TryRead(out var delivery))
        {
            await GiveBackAsync(delivery).ConfigureAwait(false);
        }

        foreach (var delivery in _drained)
        {
            await GiveBackAsync(delivery).ConfigureAwait(false);
        }

        _drained.Clear();

        _stopping.Dispose();
    }

    private async Task PumpAsync()
    {
        var opts = new NatsJSConsumeOpts
        {
            // Bounded by what the client's pending channel holds twice over (a heartbeat re-pull may overlap a batch).
            MaxMsgs = Math.Clamp(_request.Capacity, 1, 4096),
            // A pull request the server lost (it restarted) is noticed when its heartbeats stop, within 5 s, and asked again.
            Expires = TimeSpan.FromSeconds(10),
            IdleHeartbeat = TimeSpan.FromMilliseconds(2500),
            // Cancelled to stop: what was pulled already is still yielded, and given back to the other members at once.
            DrainOnCancel = true,
        };
        var failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await foreach (var msg in _consumer.ConsumeAsync(NatsMessages.Raw, opts, _stopping.Token).ConfigureAwait(false))
                {
                    failures = 0;
                    var message = NatsMessages.ToMessage(msg.Subject, null, msg.Headers, msg.Data, noResponders: false);
                    var attempt = (int)Math.Min(msg.Metadata?.NumDelivered ?? 1, int.MaxValue);
                    var delivery = new Delivery(message, attempt, new JetStreamAcknowledgement(msg));
                    try
                    {
                        await _deliveries.Writer.WriteAsync(delivery, _stopping.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                    {
                        // Stopping: what the client pulled already drains here and goes back to the other members at once,
                        // after what was handed over (given back by DisposeAsync), so in the order it was pulled.
                        _drained.Add(delivery);
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Log.ConsumeFailed(_logger, _request.QueueGroup, _stream, _request.Subject, e);
            }

            if (_stopping.IsCancellationRequested)
            {
                break;
            }

            // The consumer ended (deleted, JetStream lost its state): wait a little, make it again, go on.
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, failures++))), _stopping.Token).ConfigureAwait(false);
                _consumer = await _transport.EnsureConsumerAsync(NatsTransport.GroupOf(_request), _stream, adoptAckWait: true, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Log.ConsumeFailed(_logger, _request.QueueGroup, _stream, _request.Subject, e);
            }
        }

        _deliveries.Writer.TryComplete();
    }

    private async ValueTask GiveBackAsync(Delivery delivery)
    {
        try
        {
            await delivery.Acknowledgement!.NakAsync(TimeSpan.Zero).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The server delivers it again after the ack wait all the same.
            Log.GiveBackFailed(_logger, delivery.Message.Subject, e);
        }
    }

    private sealed class JetStreamAcknowledgement(INatsJSMsg<ReadOnlyMemory<byte>> msg) : IAcknowledgement
    {
        public ValueTask AckAsync(CancellationToken cancellationToken = default) => msg.AckAsync(cancellationToken: cancellationToken);

        public ValueTask NakAsync(TimeSpan delay, CancellationToken cancellationToken = default) =>
            msg.NakAsync(delay > TimeSpan.Zero ? new AckOpts { NakDelay = delay } : null, cancellationToken);
    }
}
