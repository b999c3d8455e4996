using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Hosting;

/// <summary>
/// Connects the bus at start, declares every durable group (registered, and those of durable handlers), then opens every
/// registered handler's subscription; at stop, drains them.
/// </summary>
internal sealed partial class MessagingHostedService(
    MessageBus bus,
    IEnumerable<HandlerRegistration> registrations,
    IEnumerable<DurableGroupRequest> durableGroups,
    IServiceProvider services,
    ILogger<MessagingHostedService> logger) : IHostedService
{
    private readonly List<Subscription> _subscriptions = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await bus.ConnectAsync(cancellationToken).ConfigureAwait(false);
        LogConnected(logger, bus.Transport.Name, TransportUrl.Redact(bus.Options.Url));

        // Before anything is published or consumed here: whichever process of the system starts first, the groups keep messages from now on.
        // All at once: a transport that keeps several groups in one store makes it with all of them, and never changes it after.
        var groups = DurableGroups().ToList();
        await bus.DeclareDurableGroupsAsync(groups, cancellationToken).ConfigureAwait(false);
        foreach (var group in groups)
        {
            LogDeclared(logger, group.Group, group.Subject);
        }

        foreach (var registration in registrations)
        {
            var subscription = registration.CreateBatchHandler is { } batch
                ? await bus.SubscribeBatchAsync(registration.Subject, batch(services), registration.Options, cancellationToken).ConfigureAwait(false)
                : await bus.SubscribeAsync(registration.Subject, registration.CreateHandler(services), registration.Options, cancellationToken).ConfigureAwait(false);
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

    /// <summary>A durable handler's group with its own ack wait first, so that a group made here gets its members' setting.</summary>
    private IEnumerable<DurableGroupRequest> DurableGroups() => registrations
        .Where(r => r.Options.Durable && !string.IsNullOrWhiteSpace(r.Options.QueueGroup))
        .Select(r => new DurableGroupRequest(r.Subject, r.Options.QueueGroup!, r.Options.AckWait))
        .Concat(durableGroups)
        .DistinctBy(g => (g.Subject, g.Group));

    [LoggerMessage(10, LogLevel.Information, "Message queue {Transport} connected at {Url}")]
    private static partial void LogConnected(ILogger logger, string transport, string url);

    [LoggerMessage(11, LogLevel.Information, "Subscribed to {Subject} (queue group {QueueGroup}, durable {Durable})")]
    private static partial void LogSubscribed(ILogger logger, string subject, string? queueGroup, bool durable);

    [LoggerMessage(12, LogLevel.Information, "Durable group {QueueGroup} on {Subject} declared")]
    private static partial void LogDeclared(ILogger logger, string queueGroup, string subject);
}
