using System.IO.Hashing;
using StackExchange.Redis;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Redis;

/// <summary>
/// A plain or queue-group subscription on Redis pub/sub. Wildcard patterns are filtered to NATS semantics.
/// Queue groups: Redis has none, and a message published by any client (<c>redis-cli PUBLISH</c>) must reach
/// the group, so every member receives it and asks who owns it (<see cref="Scripts.ClaimForGroup"/>): the
/// first to ask assigns it to the group's next live member in turn, under a key named after the message's
/// content and its occurrence, and only that member delivers it. Members hold a lease in the group's
/// member set, renewed while they run and given up when they stop.
/// </summary>
internal sealed class CoreSubscription : ITransportSubscription
{
    private readonly RedisTransport _transport;
    private readonly SubscriptionRequest _request;
    private readonly ChannelMessageQueue _queue;
    private readonly Channel<Delivery> _deliveries;
    private readonly bool _wildcard;
    private readonly Dictionary<UInt128, long> _occurrences = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _member = "m" + Nuid.Next();
    private readonly string? _membersKey;
    private readonly string? _turnKey;
    private Task _pump = Task.CompletedTask;
    private Task _lease = Task.CompletedTask;
    private int _disposed;

    public CoreSubscription(RedisTransport transport, SubscriptionRequest request, ChannelMessageQueue queue)
    {
        _transport = transport;
        _request = request;
        _queue = queue;
        _wildcard = Subjects.HasWildcards(request.Subject);
        _deliveries = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(Math.Max(1, request.Capacity))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
        if (request.QueueGroup is not null)
        {
            var prefix = transport.Options.KeyPrefix;
            _membersKey = $"{prefix}members:{request.QueueGroup}:{request.Subject}";
            _turnKey = $"{prefix}turn:{request.QueueGroup}:{request.Subject}";
        }
    }

    public ChannelReader<Delivery> Deliveries => _deliveries.Reader;

    private static TimeSpan Lease => TimeSpan.FromSeconds(15);

    /// <summary>Joins the queue group (once subscribed: it is given messages from then on), then starts reading.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_membersKey is not null)
        {
            await JoinAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            _lease = Task.Run(RenewLeaseAsync);
        }

        _pump = Task.Run(PumpAsync);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _transport.Forget(this);
        try
        {
            if (_membersKey is not null)
            {
                // Leave first: no message is assigned to this member once it stops reading.
                await _transport.Database.SortedSetRemoveAsync(_membersKey, _member).ConfigureAwait(false);
            }

            await _queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException or TimeoutException)
        {
            // The connection is going: the subscription ends with it.
        }

        _stopping.Cancel();
        await _pump.ConfigureAwait(false);
        await _lease.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                var received = await _queue.ReadAsync(_stopping.Token).ConfigureAwait(false);
                var channel = received.Channel.ToString();
                if (_wildcard && (channel.Contains(' ') || !Subjects.Matches(_request.Subject, channel)))
                {
                    continue;
                }

                var payload = (byte[]?)received.Message ?? [];
                if (_request.QueueGroup is not null && !await ClaimAsync(channel, payload).ConfigureAwait(false))
                {
                    continue;
                }

                await _deliveries.Writer.WriteAsync(new Delivery(Envelope.Decode(channel, payload)), _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
        finally
        {
            _deliveries.Writer.TryComplete();
        }
    }

    private Task JoinAsync() =>
        Scripts.JoinGroup.EvaluateAsync(_transport.Database, [_membersKey!], [_member, (long)Lease.TotalMilliseconds]);

    private async Task RenewLeaseAsync()
    {
        using var timer = new PeriodicTimer(Lease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await JoinAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    Log.ClaimFailed(_transport.Logger, _request.QueueGroup, _request.Subject, new TransportException(_transport.Scrub(e.Message)));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The n-th identical payload on a channel is the same key at every member (they all see the channel
    /// in the server's order), so identical raw messages are each taken once too.
    /// </summary>
    private async Task<bool> ClaimAsync(string channel, byte[] payload)
    {
        var hash = new XxHash128();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(channel));
        hash.Append(payload);
        var digest = hash.GetCurrentHashAsUInt128();
        _occurrences.TryGetValue(digest, out var seen);
        _occurrences[digest] = ++seen;
        if (_occurrences.Count > 100_000)
        {
            // Identical payloads far apart are told apart by the claim's expiry instead.
            _occurrences.Clear();
        }

        var key = $"{_transport.Options.KeyPrefix}claim:{_request.QueueGroup}:{digest:x32}:{seen}";
        try
        {
            var owner = await Scripts.ClaimForGroup.EvaluateAsync(_transport.Database, [key, _membersKey!, _turnKey!],
                [_member, (long)_transport.Options.QueueGroupClaimTtl.TotalMilliseconds]).ConfigureAwait(false);
            return (string?)owner == _member;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Log.ClaimFailed(_transport.Logger, _request.QueueGroup, channel, new TransportException(_transport.Scrub(e.Message)));
            return false;
        }
    }
}
