namespace ToDoList.Messaging.Hosting;

/// <summary>
/// Handles messages of one type; resolved from a fresh DI scope for each message.
/// Register with <see cref="MessagingServiceCollectionExtensions.AddMessageHandler{THandler, TMessage}"/>.
/// </summary>
public interface IMessageHandler<TMessage>
{
    ValueTask HandleAsync(MessageContext<TMessage> context, CancellationToken cancellationToken);
}

/// <summary>A subscription the host opens at start and drains at stop.</summary>
public sealed record HandlerRegistration(string Subject, SubscribeOptions Options, Func<IServiceProvider, MessageHandler> CreateHandler);

/// <summary>How a URL scheme becomes a transport.</summary>
public sealed record TransportRegistration(string Scheme, Func<TransportUrl, IServiceProvider, Transport.ITransport> Create);
