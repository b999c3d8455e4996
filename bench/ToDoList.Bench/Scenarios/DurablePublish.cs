using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using RabbitMQ.Client;
using StackExchange.Redis;
using ToDoList.Messaging;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>durable-publish</c>: publishing to a durable group's subject, each publish returning once the broker has kept the
/// message, 256 in flight, for the duration. Ours (<c>PublishAsync</c>) against a JetStream publish awaiting its ack,
/// a Redis <c>XADD</c>, and a RabbitMQ persistent publish with confirms.
/// </summary>
internal static class DurablePublish
{
    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        foreach (var url in await brokers.UrlsAsync("nats", "redis", "amqp"))
        {
            var transport = Brokers.NameOf(url);
            foreach (var size in options.Sizes)
            {
                var payload = new byte[size];
                Console.WriteLine($"durable-publish on {transport}, {size} B");
                await Compare.RunAsync($"durable-publish/{transport}/{size}B", "msg/s", options,
                    () => OursAsync(url, payload, options.Duration),
                    () => transport switch
                    {
                        "nats" => NatsAsync(url, payload, options.Duration),
                        "redis" => RedisAsync(url, payload, options.Duration),
                        _ => RabbitMqAsync(url, payload, options.Duration),
                    });
            }
        }
    }

    private static async Task<double> OursAsync(string url, byte[] payload, TimeSpan duration)
    {
        var subject = $"benchpublish.{Nuid.Next()}";
        await using var bus = await Brokers.ConnectAsync(url);
        await bus.DeclareDurableGroupAsync(subject, $"g{Nuid.Next()}");
        return await RateAsync(duration, () => bus.PublishAsync(new Message(subject, payload)));
    }

    private static async Task<double> NatsAsync(string url, byte[] payload, TimeSpan duration)
    {
        var subject = $"rawpublish.{Nuid.Next()}";
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(connection);
        await js.CreateOrUpdateStreamAsync(new StreamConfig("RAWPUBLISH", ["rawpublish.>"]) { Storage = StreamConfigStorage.File });
        async ValueTask Publish() => (await js.PublishAsync(subject, payload)).EnsureSuccess();
        var rate = await RateAsync(duration, Publish);
        await js.DeleteStreamAsync("RAWPUBLISH");
        return rate;
    }

    private static async Task<double> RedisAsync(string url, byte[] payload, TimeSpan duration)
    {
        var endpoint = new Uri(url);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{endpoint.Host}:{endpoint.Port}");
        var db = redis.GetDatabase();
        RedisKey stream = $"rawpublish:{Nuid.Next()}";
        await db.StreamCreateConsumerGroupAsync(stream, "g", StreamPosition.NewMessages, createStream: true);
        var rate = await RateAsync(duration, () => new ValueTask(db.StreamAddAsync(stream, "d", payload)));
        await db.KeyDeleteAsync(stream);
        return rate;
    }

    private static async Task<double> RabbitMqAsync(string url, byte[] payload, TimeSpan duration)
    {
        var queue = $"rawpublish-{Nuid.Next()}";
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent };
        var rate = await RateAsync(duration, () => channel.BasicPublishAsync("", queue, mandatory: false, properties, payload));
        await channel.QueueDeleteAsync(queue);
        return rate;
    }

    private static async Task<double> RateAsync(TimeSpan duration, Func<ValueTask> publish)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var sent = await Load.SendForAsync(duration, publish);
        return sent / clock.Elapsed.TotalSeconds;
    }
}
