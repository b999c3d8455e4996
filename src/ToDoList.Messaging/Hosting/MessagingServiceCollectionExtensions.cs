using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.DeadLetters;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Hosting;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="MessageBus"/> on the transport its URL names, and a hosted service that
    /// connects it and runs the registered handlers. <c>memory://</c> and <c>embedded://</c> are always known:
    /// both take the <see cref="EmbeddedOptions"/> registered, if any; <c>embedded://</c> keeps durable groups in the file its
    /// URL names (<c>embedded:///path/queue.db</c>), else in the registered options' file, else in <see cref="EmbeddedOptions.DefaultFileName"/>.
    /// </summary>
    public static IServiceCollection AddMessaging(this IServiceCollection services, Func<IServiceProvider, MessagingOptions> options)
    {
        services.AddSingleton(options);
        services.AddTransport("memory", (url, sp) => new EmbeddedTransport("memory", sp.GetService<EmbeddedOptions>() is { } configured ? configured with { FilePath = null } : null));
        services.AddTransport("embedded", (url, sp) => new EmbeddedTransport("embedded", EmbeddedOptions.ForUrl(url, sp.GetService<EmbeddedOptions>())));
        services.AddSingleton(sp =>
        {
            var messaging = sp.GetRequiredService<MessagingOptions>();
            var url = TransportUrl.Parse(messaging.Url);
            var registration = sp.GetServices<TransportRegistration>().LastOrDefault(r => string.Equals(r.Scheme, url.Scheme, StringComparison.OrdinalIgnoreCase))
                ?? throw new TransportException($"No transport is registered for '{url}'. Known schemes: {string.Join(", ", sp.GetServices<TransportRegistration>().Select(r => r.Scheme + "://").Distinct())}.");
            return new MessageBus(registration.Create(url, sp), messaging, sp.GetRequiredService<ILogger<MessageBus>>(), sp.GetService<TimeProvider>());
        });
        services.AddHostedService<MessagingHostedService>();
        return services;
    }

    /// <summary>Makes a URL scheme known, for transports in their own packages.</summary>
    public static IServiceCollection AddTransport(this IServiceCollection services, string scheme, Func<TransportUrl, IServiceProvider, Transport.ITransport> create) =>
        services.AddSingleton(new TransportRegistration(scheme, create));

    /// <summary>
    /// Declares the durable group <paramref name="group"/> on <paramref name="subject"/> when the host starts, before any
    /// subscription opens: from then on it keeps every matching message, whether or not one of its members ever ran.
    /// Register it in every process that publishes to it; a durable handler (<see cref="AddMessageHandler{THandler, TMessage}"/>)
    /// declares its own group. <paramref name="ackWait"/> is the one its members subscribe with (default that of <see cref="SubscribeOptions"/>).
    /// </summary>
    public static IServiceCollection AddDurableGroup(this IServiceCollection services, string subject, string group, TimeSpan? ackWait = null)
    {
        Subjects.ValidateSubscribe(subject);
        ArgumentException.ThrowIfNullOrWhiteSpace(group);
        return services.AddSingleton(new DurableGroupRequest(subject, group, ackWait ?? new SubscribeOptions().AckWait));
    }

    /// <summary>
    /// Runs <typeparamref name="THandler"/> for every message on <paramref name="subject"/>, from the start of the host to
    /// its stop. A durable handler's group is declared at start, as <see cref="AddDurableGroup"/> would.
    /// </summary>
    public static IServiceCollection AddMessageHandler<THandler, TMessage>(this IServiceCollection services, string subject, SubscribeOptions? options = null)
        where THandler : class, IMessageHandler<TMessage>
    {
        services.AddScoped<THandler>();
        services.AddSingleton(new HandlerRegistration(subject, options ?? new SubscribeOptions(), root => async (context, cancellationToken) =>
        {
            var typed = new MessageContext<TMessage>(context, context.Deserialize<TMessage>());
            await using var scope = root.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(typed, cancellationToken).ConfigureAwait(false);
        }));
        return services;
    }

    /// <summary>
    /// Runs <typeparamref name="THandler"/> for the messages on <paramref name="subject"/> that arrived together, up to
    /// <see cref="SubscribeOptions.MaxBatch"/> at once (one when idle): one database statement for a backlog. A batch that
    /// fails goes through the handler again one message at a time, with the usual retries and dead letters.
    /// </summary>
    public static IServiceCollection AddBatchMessageHandler<THandler, TMessage>(this IServiceCollection services, string subject, SubscribeOptions? options = null)
        where THandler : class, IBatchMessageHandler<TMessage>
    {
        services.AddScoped<THandler>();
        async ValueTask HandleAsync(IServiceProvider root, IReadOnlyList<MessageContext> batch, CancellationToken cancellationToken)
        {
            var typed = batch.Select(context => new MessageContext<TMessage>(context, context.Deserialize<TMessage>())).ToList();
            await using var scope = root.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(typed, cancellationToken).ConfigureAwait(false);
        }

        services.AddSingleton(new HandlerRegistration(
            subject,
            options ?? new SubscribeOptions(),
            root => (context, cancellationToken) => HandleAsync(root, [context], cancellationToken),
            root => (batch, cancellationToken) => HandleAsync(root, batch, cancellationToken)));
        return services;
    }

    /// <summary>
    /// Answers scatter-gather requests on <see cref="InstanceInfo.Subject"/> with this process's
    /// <see cref="InstanceInfo"/>; the version is that of <paramref name="application"/>.
    /// </summary>
    public static IServiceCollection AddInstanceInfo(this IServiceCollection services, string role, System.Reflection.Assembly application)
    {
        services.AddSingleton(sp => new InstanceDirectory(role, sp.GetRequiredService<MessageBus>(), application));
        services.AddSingleton(new HandlerRegistration(InstanceInfo.Subject, new SubscribeOptions(), root =>
            (context, cancellationToken) => root.GetRequiredService<InstanceDirectory>().ReplyAsync(context, cancellationToken)));
        return services;
    }

    /// <summary>Reads what the broker sees, now and then, and often while watched (<see cref="BrokerMonitor"/>): the diagnostics' broker view and the consumer lag gauge.</summary>
    public static IServiceCollection AddBrokerMonitor(this IServiceCollection services)
    {
        services.AddSingleton<BrokerMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<BrokerMonitor>());
        return services;
    }

    /// <summary>
    /// Keeps the dead letters of every subject (a durable group on <c>deadletter.&gt;</c>) to list, replay and delete, here and
    /// over the queue (<see cref="DeadLetterAdmin"/>). They live in memory unless an <see cref="IDeadLetterRepository"/> is registered.
    /// </summary>
    public static IServiceCollection AddDeadLetterStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IDeadLetterRepository>(sp => new MemoryDeadLetterRepository(sp.GetService<ILogger<MemoryDeadLetterRepository>>()));
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton(new HandlerRegistration(DeadLetterStore.Subject, new SubscribeOptions { QueueGroup = DeadLetterStore.QueueGroup, Durable = true }, root =>
            (context, cancellationToken) => root.GetRequiredService<DeadLetterStore>().AddAsync(context.Message, cancellationToken)));
        services.AddSingleton(new HandlerRegistration(DeadLetterAdmin.Subject, new SubscribeOptions { QueueGroup = DeadLetterAdmin.QueueGroup }, root =>
            (context, cancellationToken) => DeadLetterAdmin.AnswerAsync(root.GetRequiredService<DeadLetterStore>(), context, cancellationToken)));
        return services;
    }
}
