using System.Diagnostics;
using System.Threading.Channels;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using StackExchange.Redis;
using ToDoList.Messaging;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>durable-consume</c>: a backlog (<c>--messages</c>, default 100k) published and acknowledged by the broker to a durable group, then
/// drained by one member acknowledging each message; the drain is timed. Ours against JetStream pull consume,
/// Redis XREADGROUP + XACK, RabbitMQ manual acks with prefetch, and in process a bounded channel.
/// </summary>
internal static class DurableConsume
{
    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        var backlog = options.Messages ?? 100_000;
        foreach (var url in await brokers.UrlsAsync("memory", "nats", "redis", "amqp"))
        {
            var transport = Brokers.NameOf(url);
            foreach (var size in options.Sizes)
            {
                var payload = new byte[size];
                Console.WriteLine($"durable-consume on {transport}, {size} B");
                await Compare.RunAsync($"durable-consume/{transport}/{size}B", "msg/s", options,
                    () => OursAsync(url, payload, backlog),
                    () => transport switch
                    {
                        "memory" => ChannelAsync(payload, backlog),
                        "nats" => NatsAsync(url, payload, backlog),
                        "redis" => RedisAsync(url, payload, backlog),
                        _ => RabbitMqAsync(url, payload, backlog),
                    });
            }
        }
    }

    private static async Task<double> OursAsync(string url, byte[] payload, int backlog)
    {
        var subject = $"benchdurable.{Nuid.Next()}";
        var group = $"g{Nuid.Next()}";
        await using var publisher = await Brokers.ConnectAsync(url);
        await publisher.DeclareDurableGroupAsync(subject, group);
        await Load.SendCountAsync(backlog, () => publisher.PublishAsync(new Message(subject, payload)));

        long received = 0;
        var clock = Stopwatch.StartNew();
        var member = Brokers.NameOf(url) == "memory" ? publisher : await Brokers.ConnectAsync(url);
        try
        {
            await member.SubscribeAsync(subject, (_, _) =>
            {
                Interlocked.Increment(ref received);
                return ValueTask.CompletedTask;
            }, new SubscribeOptions { QueueGroup = group, Durable = true, Capacity = 1024 });
            await Load.WaitForAsync(() => Interlocked.Read(ref received), backlog, $"ours {subject}");
            return backlog / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            if (member != publisher)
            {
                await member.DisposeAsync();
            }
        }
    }

    private static async Task<double> ChannelAsync(byte[] payload, int backlog)
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        await Load.SendCountAsync(backlog, () => channel.Writer.WriteAsync(payload));
        channel.Writer.Complete();
        var clock = Stopwatch.StartNew();
        long received = 0;
        await foreach (var _ in channel.Reader.ReadAllAsync())
        {
            received++;
        }

        return received / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> NatsAsync(string url, byte[] payload, int backlog)
    {
        var subject = $"rawdurable.{Nuid.Next()}";
        await using var connection = new NatsConnection(new NatsOpts { Url = url, SubPendingChannelFullMode = BoundedChannelFullMode.Wait });
        var js = new NatsJSContext(connection);
        await js.CreateOrUpdateStreamAsync(new StreamConfig("RAWDURABLE", ["rawdurable.>"]) { Storage = StreamConfigStorage.File });
        var consumer = await js.CreateOrUpdateConsumerAsync("RAWDURABLE", new ConsumerConfig($"c{Nuid.Next()}") { FilterSubject = subject, AckPolicy = ConsumerConfigAckPolicy.Explicit, DeliverPolicy = ConsumerConfigDeliverPolicy.New });

        async ValueTask Publish() => (await js.PublishAsync(subject, payload)).EnsureSuccess();
        await Load.SendCountAsync(backlog, Publish);

        long received = 0;
        var clock = Stopwatch.StartNew();
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 1024 }))
        {
            await msg.AckAsync();
            if (++received == backlog)
            {
                break;
            }
        }

        return backlog / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RedisAsync(string url, byte[] payload, int backlog)
    {
        var endpoint = new Uri(url);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{endpoint.Host}:{endpoint.Port}");
        var db = redis.GetDatabase();
        RedisKey stream = $"rawdurable:{Nuid.Next()}";
        await db.StreamCreateConsumerGroupAsync(stream, "g", StreamPosition.NewMessages, createStream: true);
        await Load.SendCountAsync(backlog, () => new ValueTask(db.StreamAddAsync(stream, "d", payload)));

        long received = 0;
        var clock = Stopwatch.StartNew();
        while (received < backlog)
        {
            var entries = await db.StreamReadGroupAsync(stream, "g", "c", StreamPosition.NewMessages, 256);
            if (entries.Length > 0)
            {
                await db.StreamAcknowledgeAsync(stream, "g", entries.Select(e => e.Id).ToArray());
                received += entries.Length;
            }
        }

        await db.KeyDeleteAsync(stream);
        return backlog / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RabbitMqAsync(string url, byte[] payload, int backlog)
    {
        var queue = $"rawdurable-{Nuid.Next()}";
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var publishing = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await publishing.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent };
        await Load.SendCountAsync(backlog, () => publishing.BasicPublishAsync("", queue, mandatory: false, properties, payload));

        long received = 0;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var consuming = await connection.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 1024, false);
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            if (Interlocked.Increment(ref received) == backlog)
            {
                drained.TrySetResult();
            }
        };
        var clock = Stopwatch.StartNew();
        await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);
        await drained.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var rate = backlog / clock.Elapsed.TotalSeconds;
        await publishing.QueueDeleteAsync(queue);
        return rate;
    }
}
