using StackExchange.Redis;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Redis;

/// <summary>
/// One member of a durable group: a consumer of the group's Redis Streams consumer group. It reads new
/// entries (XREADGROUP) and takes over entries idle past the ack wait (XAUTOCLAIM: a member died, a
/// handler is too slow, a nak's delay passed), with their delivery count as the attempt. Reads never
/// block the shared connection: a pub/sub notice from the publisher wakes the member, and it looks
/// again at least every poll interval. It also trims entries every group acknowledged.
/// </summary>
internal sealed class DurableSubscription : ITransportSubscription
{
    private const int MaxBatch = 256;

    // The wake-up notice of an entry given back (any other notice: new entries).
    private static readonly RedisValue GivenBack = "given-back";
    private static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(5);

    // A running member reads every poll interval, which makes it busy again: only stopped members stay idle this long.
    private static readonly TimeSpan IdleConsumerLifetime = TimeSpan.FromHours(1);

    private readonly RedisTransport _transport;
    private readonly SubscriptionRequest _request;
    private readonly RedisKey _stream;
    private readonly string _streamName;
    private readonly string _consumer = "c" + Nuid.Next();
    private readonly Channel<Delivery> _deliveries;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly TimeSpan _poll;
    // Taking over idle entries scans the group's pending list: done every poll interval, and at once when an entry was
    // given back (a nak, a member stopping), not before every read.
    private int _claimDue = 1;
    private ChannelMessageQueue? _notices;
    private Task _pump = Task.CompletedTask;
    private Task _noticePump = Task.CompletedTask;
    private int _disposed;

    public DurableSubscription(RedisTransport transport, SubscriptionRequest request, string stream)
    {
        _transport = transport;
        _request = request;
        _stream = stream;
        _streamName = stream;
        _deliveries = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(Math.Clamp(request.Capacity, 1, MaxBatch))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
        var poll = transport.Options.DurablePollInterval;
        _poll = request.AckWait > TimeSpan.Zero && request.AckWait / 2 < poll ? request.AckWait / 2 : poll;
    }

    public ChannelReader<Delivery> Deliveries => _deliveries.Reader;

    private string Group => _request.QueueGroup!;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _notices = await _transport.Subscriber.SubscribeAsync(RedisChannel.Literal(_transport.WakePrefix + _streamName)).WaitAsync(cancellationToken).ConfigureAwait(false);
        _noticePump = Task.Run(FollowNoticesAsync);
        _pump = Task.Run(PumpAsync);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _transport.Forget(this);
        _stopping.Cancel();
        await _pump.ConfigureAwait(false);
        if (_notices is not null)
        {
            try
            {
                await _notices.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or ObjectDisposedException or TimeoutException)
            {
            }
        }

        await _noticePump.ConfigureAwait(false);

        // Messages handed over but not taken go back at once, to this group's other members.
        while (_deliveries.Reader.TryRead(out var delivery))
        {
            await GiveBackAsync(delivery).ConfigureAwait(false);
        }
    }

    private void Wake(bool claim = false)
    {
        if (claim)
        {
            Volatile.Write(ref _claimDue, 1);
        }

        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task FollowNoticesAsync()
    {
        try
        {
            while (true)
            {
                var notice = await _notices!.ReadAsync(_stopping.Token).ConfigureAwait(false);
                Wake(claim: notice.Message == GivenBack);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    private async Task PumpAsync()
    {
        var database = _transport.Database;
        var lastTrim = DateTime.UtcNow;
        var lastClaim = DateTime.MinValue;
        var failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var room = Math.Max(1, Math.Clamp(_request.Capacity, 1, MaxBatch) - _deliveries.Reader.Count);
                var handed = 0;
                var batch = new List<Delivery>();
                if (Interlocked.Exchange(ref _claimDue, 0) == 1 || DateTime.UtcNow - lastClaim >= _poll)
                {
                    lastClaim = DateTime.UtcNow;
                    var claimed = (RedisResult[]?)await Scripts.Claim.EvaluateAsync(database, [_stream],
                        [Group, _consumer, (long)Math.Max(1, _request.AckWait.TotalMilliseconds), room]).ConfigureAwait(false) ?? [];
                    foreach (var entry in claimed)
                    {
                        var parts = (RedisResult[])entry!;
                        batch.Add(ToDelivery((string)parts[0]!, (int)(long)parts[1], (RedisResult[])parts[2]!));
                    }
                }

                await HandOverAsync(batch).ConfigureAwait(false);
                handed += batch.Count;

                room -= handed;
                if (room > 0)
                {
                    var entries = await database.StreamReadGroupAsync(_stream, Group, _consumer, StreamPosition.NewMessages, room).ConfigureAwait(false);
                    batch = new List<Delivery>(entries.Length);
                    foreach (var entry in entries)
                    {
                        batch.Add(ToDelivery(entry));
                    }

                    await HandOverAsync(batch).ConfigureAwait(false);
                    handed += batch.Count;
                }

                failures = 0;
                if (DateTime.UtcNow - lastTrim > TrimInterval)
                {
                    lastTrim = DateTime.UtcNow;
                    await TrimAsync(database).ConfigureAwait(false);
                }

                if (handed == 0)
                {
                    await _wake.WaitAsync(_poll, _stopping.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RedisException or TimeoutException or InvalidCastException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    break;
                }

                Log.ConsumeFailed(_transport.Logger, Group, _request.Subject, _streamName, new TransportException(_transport.Scrub(e.Message)));
                if (e is RedisServerException { Message: var message } && message.Contains("NOGROUP", StringComparison.Ordinal))
                {
                    // The stream or its group was deleted: make them again (from now on), go on.
                    await TryAgainAsync(() => _transport.DeclareDurableGroupAsync(new DurableGroupRequest(_request.Subject, Group, _request.AckWait), _stopping.Token).AsTask()).ConfigureAwait(false);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, failures++))), _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        _deliveries.Writer.TryComplete();
    }

    private static async Task TryAgainAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is TransportException or OperationCanceledException)
        {
        }
    }

    private async Task TrimAsync(IDatabase database)
    {
        try
        {
            await Scripts.Trim.EvaluateAsync(database, [_stream], [(long)IdleConsumerLifetime.TotalMilliseconds]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Log.TrimFailed(_transport.Logger, _streamName, new TransportException(_transport.Scrub(e.Message)));
        }
    }

    private Delivery ToDelivery(StreamEntry entry)
    {
        var fields = new RedisResult[entry.Values.Length * 2];
        for (var i = 0; i < entry.Values.Length; i++)
        {
            fields[2 * i] = RedisResult.Create(entry.Values[i].Name);
            fields[(2 * i) + 1] = RedisResult.Create(entry.Values[i].Value);
        }

        return ToDelivery((string)entry.Id!, 1, fields);
    }

    private Delivery ToDelivery(string id, int attempt, RedisResult[] fields) =>
        new(ToMessage(fields), attempt, new StreamAcknowledgement(this, id));

    /// <summary>
    /// Hands a whole batch read from the stream to the subscriber. When stopping cuts it short, every entry
    /// of the batch not handed over goes back at once, not only the one being handed: the rest were read
    /// too (pending to this member) and would otherwise wait out the ack wait.
    /// </summary>
    private async Task HandOverAsync(List<Delivery> batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                await _deliveries.Writer.WriteAsync(batch[i], _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: what was read goes back to the other members at once.
                for (var j = i; j < batch.Count; j++)
                {
                    await GiveBackAsync(batch[j]).ConfigureAwait(false);
                }

                throw;
            }
        }
    }

    /// <summary>Stream fields: <c>:subject</c>, <c>:reply-to</c>, <c>:data</c>, then every header under its own name (<c>ce-id</c>, …).</summary>
    private static Message ToMessage(RedisResult[] fields)
    {
        string subject = "";
        string? replyTo = null;
        ReadOnlyMemory<byte> data = ReadOnlyMemory<byte>.Empty;
        MessageHeaders? headers = null;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            var name = (string)fields[i]!;
            switch (name)
            {
                case ":subject":
                    subject = (string)fields[i + 1]!;
                    break;
                case ":reply-to":
                    replyTo = (string)fields[i + 1]!;
                    break;
                case ":data":
                    data = (byte[]?)fields[i + 1] ?? [];
                    break;
                default:
                    headers ??= new MessageHeaders();
                    headers[name] = (string)fields[i + 1]!;
                    break;
            }
        }

        return new Message(subject, data, headers, replyTo);
    }

    private async ValueTask GiveBackAsync(Delivery delivery)
    {
        try
        {
            await delivery.Acknowledgement!.NakAsync(TimeSpan.Zero).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.GiveBackFailed(_transport.Logger, delivery.Message.Subject, new TransportException(_transport.Scrub(e.Message)));
        }
    }

    /// <summary>
    /// Ack is XACK, sent without waiting for its reply (pipelined behind whatever else the connection sends): a
    /// round trip per message was the consumer's limit, and an XACK that never arrives only means the entry comes
    /// again after the ack wait, which an idempotent handler shrugs off. Nak makes the entry look idle for (ack wait − delay), so that whichever member looks
    /// next after the delay takes it over (XAUTOCLAIM), counting a delivery; a wake-up after the delay
    /// makes this member look at once.
    /// </summary>
    private sealed class StreamAcknowledgement(DurableSubscription owner, string id) : IAcknowledgement
    {
        public async ValueTask AckAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                await owner._transport.Database.StreamAcknowledgeAsync(owner._stream, owner.Group, id, CommandFlags.FireAndForget).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                throw owner._transport.Failure($"Could not acknowledge entry {id} of {owner._stream}", e);
            }
        }

        public async ValueTask NakAsync(TimeSpan delay, CancellationToken cancellationToken = default)
        {
            var ackWait = owner._request.AckWait;
            var idle = delay >= ackWait ? 0 : (long)(ackWait - delay).TotalMilliseconds;
            try
            {
                await owner._transport.Database.ExecuteAsync(
                    "XCLAIM",
                    [owner._stream, owner.Group, owner._consumer, 0, id, "IDLE", idle, "JUSTID"]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                throw owner._transport.Failure($"Could not give back entry {id} of {owner._stream}", e);
            }

            if (delay <= TimeSpan.Zero)
            {
                // Every member of the group may take it now: wake them all, this one included.
                await owner._transport.Subscriber.PublishAsync(RedisChannel.Literal(owner._transport.WakePrefix + owner._streamName), GivenBack).ConfigureAwait(false);
            }
            else
            {
                _ = Task.Delay(delay).ContinueWith(_ => owner.Wake(claim: true), TaskScheduler.Default);
            }
        }
    }
}
