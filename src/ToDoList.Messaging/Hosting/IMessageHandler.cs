namespace ToDoList.Messaging.Hosting;

/// <summary>
/// Handles messages of one type; resolved from a fresh DI scope for each message.
/// Register with <see cref="MessagingServiceCollectionExtensions.AddMessageHandler{THandler, TMessage}"/>.
/// </summary>
public interface IMessageHandler<TMessage>
{
    ValueTask HandleAsync(MessageContext<TMessage> context, CancellationToken cancellationToken);
}

/// <summary>A subscription the host opens at start and drains at stop; a durable one's group is declared first.</summary>
public sealed record HandlerRegistration(string Subject, SubscribeOptions Options, Func<IServiceProvider, MessageHandler> CreateHandler);

/// <summary>
/// A durable group the host declares at start, before it opens any subscription, so that it keeps messages
/// published before any of its members ever ran. Register with <see cref="MessagingServiceCollectionExtensions.AddDurableGroup"/>.
/// </summary>
public sealed record DurableGroupRegistration(string Subject, string Group, TimeSpan AckWait);

/// <summary>How a URL scheme becomes a transport.</summary>
public sealed record TransportRegistration(string Scheme, Func<TransportUrl, IServiceProvider, Transport.ITransport> Create);
