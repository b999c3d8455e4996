namespace ToDoList.Messaging.Transport;

/// <summary>
/// What a queue technology must provide. Everything else (envelopes, retries, dead letters,
/// request-response, scatter-gather, telemetry) is built once on top, in <see cref="MessageBus"/>.
/// A new transport implements this interface and passes the conformance suite.
/// </summary>
public interface ITransport : IAsyncDisposable
{
    /// <summary>The URL scheme, for logs: <c>memory</c>, <c>embedded</c>, <c>nats</c>, …</summary>
    string Name { get; }

    bool IsConnected { get; }

    ValueTask ConnectAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Delivers the message to every matching subscriber and stores it in every matching durable
    /// group. Returns once durable groups hold it. A message with a reply subject that nothing
    /// matches makes the transport send a no-responders status (<see cref="MessagingHeaders.Status"/> 503)
    /// to that reply subject, where the technology can tell.
    /// </summary>
    ValueTask PublishAsync(Message message, CancellationToken cancellationToken);

    ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a durable group, as a durable subscription would, without joining it: from then on it
    /// keeps every matching message until a member acknowledges it. Idempotent: an existing group
    /// is left as it is (its messages, delivery counts and settings untouched). A group bound to
    /// another subject is refused with a <see cref="TransportException"/>, as at subscribe.
    /// </summary>
    ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Declares several groups, as a process declares its whole topology at start. A transport that keeps several groups
    /// in one store (NATS: a stream per first subject token) makes it for all of them at once, so it is never changed
    /// afterwards (a change needs a right an application's user may lack); the others declare them one by one.
    /// </summary>
    async ValueTask DeclareDurableGroupsAsync(IReadOnlyList<DurableGroupRequest> requests, CancellationToken cancellationToken)
    {
        foreach (var request in requests)
        {
            await DeclareDurableGroupAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>What a subscription asks of the transport.</summary>
/// <param name="Subject">A subject or pattern (<c>*</c>, <c>&gt;</c>).</param>
/// <param name="QueueGroup">Members of a group share its messages, each message to one member.</param>
/// <param name="Durable">At-least-once: the group (named by <paramref name="QueueGroup"/>) keeps messages while no member runs; unacknowledged ones come again.</param>
/// <param name="Capacity">Messages held for this subscriber before the transport waits (back-pressure).</param>
/// <param name="AckWait">How long a durable delivery may stay unacknowledged before it is delivered again.</param>
public sealed record SubscriptionRequest(string Subject, string? QueueGroup, bool Durable, int Capacity, TimeSpan AckWait);

/// <summary>What a durable group declared ahead of its members asks of the transport.</summary>
/// <param name="Subject">The subject or pattern the group follows, as its members will subscribe to it.</param>
/// <param name="Group">The group's name: the <see cref="SubscriptionRequest.QueueGroup"/> of its durable members.</param>
/// <param name="AckWait">The ack wait a transport that keeps it per group (NATS) makes the group with; its members' own then applies.</param>
public sealed record DurableGroupRequest(string Subject, string Group, TimeSpan AckWait);

public interface ITransportSubscription : IAsyncDisposable
{
    ChannelReader<Delivery> Deliveries { get; }
}

/// <summary>One delivery of a message to a subscriber.</summary>
/// <param name="Message">The message.</param>
/// <param name="Attempt">1 for the first delivery, counting redeliveries of a durable message.</param>
/// <param name="Acknowledgement">Null for at-most-once deliveries, which need no acknowledgement.</param>
public readonly record struct Delivery(Message Message, int Attempt = 1, IAcknowledgement? Acknowledgement = null);

/// <summary>Settles a durable delivery.</summary>
public interface IAcknowledgement
{
    /// <summary>Done: never deliver it again.</summary>
    ValueTask AckAsync(CancellationToken cancellationToken = default);

    /// <summary>Not done: deliver it again after <paramref name="delay"/>.</summary>
    ValueTask NakAsync(TimeSpan delay, CancellationToken cancellationToken = default);
}
