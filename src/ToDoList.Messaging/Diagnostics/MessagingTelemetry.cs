using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ToDoList.Messaging.Diagnostics;

/// <summary>Traces and metrics of the library; they cost nothing until a listener subscribes.</summary>
public static class MessagingTelemetry
{
    public const string Name = "ToDoList.Messaging";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Published = Meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Messages published.");
    internal static readonly Counter<long> Consumed = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}", "Messages handled successfully.");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("messaging.process.failures", "{message}", "Handler attempts that threw.");
    internal static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("messaging.deadletters", "{message}", "Messages moved to the dead letters.");
    internal static readonly Histogram<double> ProcessDuration = Meter.CreateHistogram<double>("messaging.process.duration", "s", "Time a handler took.");

    /// <summary>The broker's view last read in this process (<see cref="MessageBus.InspectBrokerAsync"/>): the lag gauge reports it.</summary>
    internal static BrokerView? LastBrokerView;

    internal static readonly ObservableGauge<long> ConsumerLag = Meter.CreateObservableGauge(
        "messaging.consumer.lag",
        () => (Volatile.Read(ref LastBrokerView)?.Groups ?? []).Select(g => new Measurement<long>(
            g.Pending,
            new KeyValuePair<string, object?>("messaging.consumer.group.name", g.Group),
            new KeyValuePair<string, object?>("messaging.destination.name", g.Subject))),
        "{message}",
        "Messages kept for a durable group and not yet delivered, as last read from the broker.");

    internal static Activity? StartPublish(Message message, string system)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = ActivitySource.StartActivity($"send {message.Subject}", ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.destination.name", message.Subject);
            activity.SetTag("messaging.message.id", message.Id);
            activity.SetTag("messaging.message.body.size", message.Data.Length);
        }

        return activity;
    }

    internal static Activity? StartProcess(Message message, string system, string? group)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(message.HasHeaders ? message.Headers[CloudEventHeaders.TraceParent] : null, message.HasHeaders ? message.Headers[CloudEventHeaders.TraceState] : null, out var parent);
        var activity = ActivitySource.StartActivity($"process {message.Subject}", ActivityKind.Consumer, parent);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", message.Subject);
            activity.SetTag("messaging.consumer.group.name", group);
            activity.SetTag("messaging.message.id", message.Id);
        }

        return activity;
    }
}
