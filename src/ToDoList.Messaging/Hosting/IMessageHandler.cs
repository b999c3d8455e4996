namespace ToDoList.Messaging.Hosting;

/// <summary>
/// Handles messages of one type; resolved from a fresh DI scope for each message.
/// Register with <see cref="MessagingServiceCollectionExtensions.AddMessageHandler{THandler, TMessage}"/>.
/// </summary>
public interface IMessageHandler<TMessage>
{
    ValueTask HandleAsync(MessageContext<TMessage> context, CancellationToken cancellationToken);
}

/// <summary>
/// Handles the messages of one type that arrived together (up to <see cref="SubscribeOptions.MaxBatch"/>) in one go;
/// resolved from a fresh DI scope for each batch. A batch that throws is handed over again one message at a time.
/// Register with <see cref="MessagingServiceCollectionExtensions.AddBatchMessageHandler{THandler, TMessage}"/>.
/// </summary>
public interface IBatchMessageHandler<TMessage>
{
    ValueTask HandleAsync(IReadOnlyList<MessageContext<TMessage>> batch, CancellationToken cancellationToken);
}

/// <summary>
/// A subscription the host opens at start and drains at stop; a durable one's group is declared first.
/// With <paramref name="CreateBatchHandler"/> messages are handed over in batches.
/// </summary>
public sealed record HandlerRegistration(string Subject, SubscribeOptions Options, Func<IServiceProvider, MessageHandler> CreateHandler, Func<IServiceProvider, BatchHandler>? CreateBatchHandler = null);

/// <summary>How a URL scheme becomes a transport.</summary>
public sealed record TransportRegistration(string Scheme, Func<TransportUrl, IServiceProvider, Transport.ITransport> Create);
