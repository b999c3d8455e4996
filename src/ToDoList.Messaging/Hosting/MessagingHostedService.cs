using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.Hosting;

/// <summary>Connects the bus at start and opens every registered handler's subscription; at stop, drains them.</summary>
internal sealed partial class MessagingHostedService(
    MessageBus bus,
    IEnumerable<HandlerRegistration> registrations,
    IServiceProvider services,
    ILogger<MessagingHostedService> logger) : IHostedService
{
    private readonly List<Subscription> _subscriptions = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await bus.ConnectAsync(cancellationToken).ConfigureAwait(false);
        LogConnected(logger, bus.Transport.Name, TransportUrl.Redact(bus.Options.Url));
        foreach (var registration in registrations)
        {
            var subscription = await bus.SubscribeAsync(registration.Subject, registration.CreateHandler(services), registration.Options, cancellationToken).ConfigureAwait(false);
            _subscriptions.Add(subscription);
            LogSubscribed(logger, registration.Subject, registration.Options.QueueGroup, registration.Options.Durable);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var subscription in _subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        _subscriptions.Clear();
    }

    [LoggerMessage(10, LogLevel.Information, "Message queue {Transport} connected at {Url}")]
    private static partial void LogConnected(ILogger logger, string transport, string url);

    [LoggerMessage(11, LogLevel.Information, "Subscribed to {Subject} (queue group {QueueGroup}, durable {Durable})")]
    private static partial void LogSubscribed(ILogger logger, string subject, string? queueGroup, bool durable);
}
