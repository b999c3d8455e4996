using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using ToDoList.Messaging;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>rabbitmq-peer</c>: durable publish → consume on one RabbitMQ broker, publishing and consuming at once for the duration.
/// Ours: <see cref="MessageBus"/> over the RabbitMQ transport, a declared durable group, one member acknowledging after its
/// handler, publishes confirmed. Baseline: MassTransit 8 (<c>Bus.Factory.CreateUsingRabbitMq</c>), one receive endpoint on
/// a durable queue, <c>Publish</c> with publisher confirms, acknowledged after its handler. Both persistent, prefetch 1024,
/// up to 256 publishes in flight. The raw RabbitMQ.Client doing the same is printed as a reference.
/// </summary>
internal static class RabbitMqPeer
{
    private const ushort Prefetch = 1024;

    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        foreach (var url in await brokers.UrlsAsync("amqp"))
        {
            foreach (var size in options.Sizes)
            {
                var payload = new byte[size];
                var name = $"rabbitmq-peer/amqp/durable/{size}B";
                Console.WriteLine($"rabbitmq-peer on amqp, durable, {size} B (baseline: MassTransit 8.5)");
                await Compare.RunAsync(name, "msg/s", options,
                    () => OursAsync(url, payload, options.Duration),
                    () => MassTransitAsync(url, payload, options.Duration));

                var raw = new List<double>();
                for (var round = 1; round <= options.Rounds; round++)
                {
                    raw.Add(await RawAsync(url, payload, options.Duration));
                    Console.WriteLine($"  {name} round {round}: raw RabbitMQ.Client {raw[^1]:N0} msg/s (reference)");
                }

                Compare.Results.Add($"{name}: reference raw RabbitMQ.Client={raw.Order().ElementAt(raw.Count / 2):F0} msg/s");
            }
        }
    }

    private static async Task<double> OursAsync(string url, byte[] payload, TimeSpan duration)
    {
        var subject = $"benchpeer.{Nuid.Next()}";
        var group = $"peer{Nuid.Next()}";
        long received = 0;
        await using var publisher = await Brokers.ConnectAsync(url);
        await publisher.DeclareDurableGroupAsync(subject, group);
        await using var member = await Brokers.ConnectAsync(url);
        await member.SubscribeAsync(subject, (_, _) =>
        {
            Interlocked.Increment(ref received);
            return ValueTask.CompletedTask;
        }, new SubscribeOptions { QueueGroup = group, Durable = true, Capacity = Prefetch });

        ValueTask Publish() => publisher.PublishAsync(new Message(subject, payload));
        await PubSub.WarmUpAsync(Publish, () => Interlocked.Read(ref received));
        return await Load.ThroughputAsync(duration, Publish, () => Interlocked.Read(ref received), $"ours {subject}");
    }

    private static async Task<double> MassTransitAsync(string url, byte[] payload, TimeSpan duration)
    {
        var queue = $"mt-peer-{Nuid.Next()}";
        var endpoint = new Uri(url);
        var user = endpoint.UserInfo.Split(':');
        long received = 0;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, (ushort)endpoint.Port, "/", h =>
            {
                h.Username(Uri.UnescapeDataString(user[0]));
                h.Password(Uri.UnescapeDataString(user[1]));
                h.PublisherConfirmation = true;
            });
            cfg.ReceiveEndpoint(queue, e =>
            {
                e.Durable = true;
                e.PrefetchCount = Prefetch;
                e.Handler<PeerMessage>(_ =>
                {
                    Interlocked.Increment(ref received);
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync();
        try
        {
            // Publish: the message type's exchange routes to the endpoint's queue, as our topic exchange does to the group's.
            ValueTask Publish() => new(bus.Publish(new PeerMessage(payload)));
            await PubSub.WarmUpAsync(Publish, () => Interlocked.Read(ref received));
            return await Load.ThroughputAsync(duration, Publish, () => Interlocked.Read(ref received), $"MassTransit {queue}");
        }
        finally
        {
            await bus.StopAsync();
            await DeleteAsync(url, queue);
        }
    }

    /// <summary>The raw client: a durable queue, persistent confirmed publishes, manual acks, the same prefetch.</summary>
    private static async Task<double> RawAsync(string url, byte[] payload, TimeSpan duration)
    {
        var queue = $"raw-peer-{Nuid.Next()}";
        long received = 0;
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var publishing = await factory.CreateConnectionAsync();
        await using var consuming = await factory.CreateConnectionAsync();
        await using var publishChannel = await publishing.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await publishChannel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await using var consumeChannel = await consuming.CreateChannelAsync();
        await consumeChannel.BasicQosAsync(0, Prefetch, false);
        var consumer = new AsyncEventingBasicConsumer(consumeChannel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            Interlocked.Increment(ref received);
            await consumeChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await consumeChannel.BasicConsumeAsync(queue, autoAck: false, consumer);

        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent };
        ValueTask Publish() => publishChannel.BasicPublishAsync("", queue, mandatory: false, properties, payload);
        await PubSub.WarmUpAsync(Publish, () => Interlocked.Read(ref received));
        var rate = await Load.ThroughputAsync(duration, Publish, () => Interlocked.Read(ref received), $"raw {queue}");
        await publishChannel.QueueDeleteAsync(queue);
        return rate;
    }

    /// <summary>MassTransit's endpoint queue and exchange: left bound to the message type, they would take the next rounds' messages.</summary>
    private static async Task DeleteAsync(string url, string queue)
    {
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
        await channel.ExchangeDeleteAsync(queue);
    }
}

/// <summary>MassTransit's message: the payload as a property (its JSON envelope carries it in base64).</summary>
public sealed record PeerMessage(byte[] Data);
