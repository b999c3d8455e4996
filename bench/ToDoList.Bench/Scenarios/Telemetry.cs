using System.Diagnostics;
using System.Diagnostics.Metrics;
using ToDoList.Messaging;
using ToDoList.Messaging.Diagnostics;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>telemetry</c>: what tracing and metrics cost. Ours: <c>pubsub</c> in process with no listener attached (telemetry
/// off: the library checks for listeners and does nothing). Baseline: the same with an ActivityListener sampling every
/// span and a MeterListener reading every instrument, as an exporter would.
/// </summary>
internal static class Telemetry
{
    public static async Task RunAsync(BenchOptions options)
    {
        foreach (var size in options.Sizes)
        {
            var payload = new byte[size];
            Console.WriteLine($"telemetry: pubsub in process, {size} B, without and with listeners");
            await Compare.RunAsync($"telemetry/off-vs-on/{size}B", "msg/s", options,
                () => PubSubAsync(payload, options.Duration, listen: false),
                () => PubSubAsync(payload, options.Duration, listen: true));
        }
    }

    private static async Task<double> PubSubAsync(byte[] payload, TimeSpan duration, bool listen)
    {
        using var spans = listen ? new ActivityListener
        {
            ShouldListenTo = source => source.Name == MessagingTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        } : null;
        using var meters = listen ? new MeterListener() : null;
        if (spans is not null && meters is not null)
        {
            ActivitySource.AddActivityListener(spans);
            meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MessagingTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            meters.SetMeasurementEventCallback<long>((_, _, _, _) => { });
            meters.SetMeasurementEventCallback<double>((_, _, _, _) => { });
            meters.Start();
        }

        var subject = $"bench.{Nuid.Next()}";
        long received = 0;
        await using var bus = await Brokers.ConnectAsync("memory://");
        await bus.SubscribeAsync(subject, (_, _) =>
        {
            Interlocked.Increment(ref received);
            return ValueTask.CompletedTask;
        }, new SubscribeOptions { Capacity = 4096 });
        return await Load.ThroughputAsync(duration, () => bus.PublishAsync(new Message(subject, payload)), () => Interlocked.Read(ref received), "telemetry");
    }
}
