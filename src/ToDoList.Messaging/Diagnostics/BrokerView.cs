namespace ToDoList.Messaging.Diagnostics;

/// <summary>
/// What the queue itself sees, read with its own tools: NATS <c>/connz</c> and JetStream consumer info, Redis
/// <c>CLIENT LIST</c>, <c>PUBSUB NUMSUB</c> and <c>XINFO GROUPS</c>, RabbitMQ's queues and connections, the embedded
/// transport's own tables. Where a part cannot be read (no monitoring endpoint, no right to ask), <see cref="Notes"/> says why.
/// </summary>
/// <param name="Transport">The transport's URL scheme.</param>
/// <param name="Source">Where the figures come from, as a reader would ask the broker by hand.</param>
/// <param name="Connections">Clients connected to the broker.</param>
/// <param name="Subscribers">Plain and queue-group subscribers per subject.</param>
/// <param name="Groups">Durable groups: what waits for them and what their members hold.</param>
/// <param name="Notes">What could not be read, and why.</param>
public sealed record BrokerView(
    string Transport,
    string Source,
    IReadOnlyList<BrokerConnection> Connections,
    IReadOnlyList<SubjectSubscribers> Subscribers,
    IReadOnlyList<GroupState> Groups,
    IReadOnlyList<string> Notes)
{
    /// <summary>When it was read.</summary>
    public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>One client connection as the broker shows it.</summary>
/// <param name="Name">The name the client gave (our roles name theirs after the role), or the broker's id for it.</param>
/// <param name="Address">Where it connects from.</param>
/// <param name="Subscriptions">Its subscriptions (NATS), channels (RabbitMQ); null where the broker does not say.</param>
/// <param name="MessagesIn">Messages it sent to the broker; null where the broker does not say.</param>
/// <param name="MessagesOut">Messages the broker sent it; null where the broker does not say.</param>
public sealed record BrokerConnection(string Name, string Address, int? Subscriptions, long? MessagesIn, long? MessagesOut);

/// <summary>How many subscribers listen on a subject (or pattern) right now.</summary>
public sealed record SubjectSubscribers(string Subject, int Subscribers);

/// <summary>A durable group's state.</summary>
/// <param name="Group">The group's name (the handlers' queue group).</param>
/// <param name="Subject">The subject it follows.</param>
/// <param name="Pending">Consumer lag: messages kept for the group and not yet delivered to a member.</param>
/// <param name="Unacknowledged">Delivered to a member and not yet acknowledged; null where the broker does not say.</param>
/// <param name="Consumers">Members consuming now; null where the broker does not say.</param>
public sealed record GroupState(string Group, string Subject, long Pending, long? Unacknowledged, int? Consumers);
