using System.Collections.Concurrent;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Embedded;

/// <summary>
/// A durable queue group of the embedded transport: it keeps every matching message, whether
/// or not a member is running, until a member acknowledges it. Members compete for messages.
/// With a <see cref="DurableStore"/> (<c>embedded://</c>) every entry is also in the queue file, under its id.
/// </summary>
internal sealed class DurableGroup(string name, string subject, long capacity, TimeProvider time, DurableStore? store = null, int storeId = 0)
{
    private readonly Channel<Entry> _ready = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly object _membersGate = new();
    private Member[] _members = [];
    private long _stored;

    public string Name { get; } = name;

    public string Subject { get; } = subject;

    /// <summary>The group's id in the queue file; 0 in memory.</summary>
    public int StoreId { get; } = storeId;

    /// <summary>Messages kept and not yet acknowledged.</summary>
    public long Stored => Interlocked.Read(ref _stored);

    /// <summary>Kept and waiting for a member: the group's lag.</summary>
    public long Ready => _ready.Reader.Count;

    /// <summary>Delivered to a member and not yet settled.</summary>
    public long InFlight => Volatile.Read(ref _members).Sum(m => (long)m.InFlight);

    public int Members => Volatile.Read(ref _members).Length;

    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _stored) <= capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _stored);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _stored);

    /// <summary>Adds a message for which <see cref="TryReserve"/> made room (and, in a file, was added under <paramref name="id"/> first).</summary>
    public void Append(Message message, long id = 0) => _ready.Writer.TryWrite(new Entry(message, id));

    /// <summary>Takes back a message the queue file kept; its delivery count goes on from where it was.</summary>
    public void Restore(StoredMessage stored)
    {
        Interlocked.Increment(ref _stored);
        _ready.Writer.TryWrite(new Entry(stored.Message, stored.Id) { Attempts = stored.Attempts });
    }

    public ITransportSubscription AddMember(SubscriptionRequest request)
    {
        var member = new Member(this, request.AckWait);
        lock (_membersGate)
        {
            _members = [.. _members, member];
        }

        return member;
    }

    public void RedeliverExpired()
    {
        var now = time.GetTimestamp();
        foreach (var member in Volatile.Read(ref _members))
        {
            member.RedeliverExpired(now);
        }
    }

    public void Complete() => _ready.Writer.TryComplete();

    private void Requeue(Entry entry) => _ready.Writer.TryWrite(entry);

    private void RemoveMember(Member member)
    {
        lock (_membersGate)
        {
            _members = _members.Where(m => m != member).ToArray();
        }
    }

    private void Delivered(Entry entry, int attempt) => store?.Delivered(entry.Id, attempt);

    private void Acknowledge(Entry entry)
    {
        Release();
        store?.Acknowledged(entry.Id);
    }

    private sealed class Entry(Message message, long id)
    {
        public Message Message { get; } = message;

        public long Id { get; } = id;

        public int Attempts;
    }

    /// <summary>One delivery of an entry to a member; settles it once.</summary>
    private sealed class Ticket(Member member, Entry entry, long deliveredAt) : IAcknowledgement
    {
        public Entry Entry { get; } = entry;

        public long DeliveredAt { get; } = deliveredAt;

        public ValueTask AckAsync(CancellationToken cancellationToken = default)
        {
            if (member.Settle(this))
            {
                member.Group.Acknowledge(Entry);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask NakAsync(TimeSpan delay, CancellationToken cancellationToken = default)
        {
            if (member.Settle(this))
            {
                member.Group.RequeueAfter(Entry, delay);
            }

            return ValueTask.CompletedTask;
        }
    }

    private void RequeueAfter(Entry entry, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Requeue(entry);
            return;
        }

        ITimer? timer = null;
        timer = time.CreateTimer(_ =>
        {
            Requeue(entry);
            timer?.Dispose();
        }, null, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A member reads straight from the group's queue: no prefetch, so a busy member leaves messages to the others.</summary>
    private sealed class Member(DurableGroup group, TimeSpan ackWait) : ChannelReader<Delivery>, ITransportSubscription
    {
        private readonly ConcurrentDictionary<Ticket, byte> _inFlight = new();
        private readonly CancellationTokenSource _disposed = new();

        public DurableGroup Group { get; } = group;

        public ChannelReader<Delivery> Deliveries => this;

        public override bool TryRead(out Delivery item)
        {
            if (!_disposed.IsCancellationRequested && Group._ready.Reader.TryRead(out var entry))
            {
                var attempt = Interlocked.Increment(ref entry.Attempts);
                var ticket = new Ticket(this, entry, Group.TimeNow());
                _inFlight[ticket] = 0;
                if (_disposed.IsCancellationRequested && Settle(ticket))
                {
                    // Disposed while taking it: DisposeAsync may have missed this ticket, so hand it back here.
                    Group.Requeue(entry);
                    item = default;
                    return false;
                }

                Group.Delivered(entry, attempt);
                item = new Delivery(entry.Message, attempt, ticket);
                return true;
            }

            item = default;
            return false;
        }

        public override async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            if (_disposed.IsCancellationRequested)
            {
                return false;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
            try
            {
                return await Group._ready.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        public int InFlight => _inFlight.Count;

        public bool Settle(Ticket ticket) => _inFlight.TryRemove(ticket, out _);

        public void RedeliverExpired(long now)
        {
            foreach (var ticket in _inFlight.Keys)
            {
                if (Group.Elapsed(ticket.DeliveredAt, now) >= ackWait && Settle(ticket))
                {
                    Group.Requeue(ticket.Entry);
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            if (_disposed.IsCancellationRequested)
            {
                return ValueTask.CompletedTask;
            }

            _disposed.Cancel();
            Group.RemoveMember(this);

            // A member gone without acknowledging: its messages go to the others, as if its process died.
            foreach (var ticket in _inFlight.Keys)
            {
                if (Settle(ticket))
                {
                    Group.Requeue(ticket.Entry);
                }
            }

            return ValueTask.CompletedTask;
        }
    }

    private long TimeNow() => time.GetTimestamp();

    private TimeSpan Elapsed(long from, long to) => time.GetElapsedTime(from, to);
}
