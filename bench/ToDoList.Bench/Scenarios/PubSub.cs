using System.Threading.Channels;
using NATS.Client.Core;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using StackExchange.Redis;
using ToDoList.Messaging;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>pubsub</c>: one publisher, one plain subscriber. <c>queue-group</c>: one publisher, a group of two members
/// sharing the messages. Ours (<see cref="MessageBus"/>) against the official client used directly, same broker,
/// same payload, the same window of sends in flight.
/// </summary>
internal static class PubSub
{
    public static async Task RunAsync(BenchOptions options, Brokers brokers, bool queueGroup)
    {
        var name = queueGroup ? "queue-group" : "pubsub";
        foreach (var url in await brokers.UrlsAsync("memory", "nats", "redis", "amqp"))
        {
            var transport = Brokers.NameOf(url);
            if (queueGroup && transport == "redis")
            {
                Console.WriteLine("  queue-group/redis: Redis pub/sub has no queue groups, so no raw client to compare with (ours builds them on Streams).");
                continue;
            }

            foreach (var size in options.Sizes)
            {
                var payload = new byte[size];
                Console.WriteLine($"{name} on {transport}, {size} B");
                await Compare.RunAsync($"{name}/{transport}/{size}B", "msg/s", options,
                    () => OursAsync(url, payload, queueGroup, options.Duration),
                    () => transport switch
                    {
                        "memory" => ChannelAsync(payload, options.Duration),
                        "nats" => NatsAsync(url, payload, queueGroup, options.Duration),
                        "redis" => RedisAsync(url, payload, options.Duration),
                        _ => RabbitMqAsync(url, payload, queueGroup, options.Duration),
                    });
            }
        }
    }

    private static async Task<double> OursAsync(string url, byte[] payload, bool queueGroup, TimeSpan duration)
    {
        var subject = $"bench.{Nuid.Next()}";
        long received = 0;
        var members = new List<MessageBus>();
        await using var publisher = await Brokers.ConnectAsync(url);
        try
        {
            // In process, one transport is the broker: members share the publisher's.
            for (var i = 0; i < (queueGroup ? 2 : 1); i++)
            {
                var member = Brokers.NameOf(url) == "memory" ? publisher : await Brokers.ConnectAsync(url);
                if (member != publisher)
                {
                    members.Add(member);
                }

                await member.SubscribeAsync(subject, (_, _) =>
                {
                    Interlocked.Increment(ref received);
                    return ValueTask.CompletedTask;
                }, new SubscribeOptions { QueueGroup = queueGroup ? "bench" : null, Capacity = 4096 });
            }

            await WarmUpAsync(() => publisher.PublishAsync(new Message(subject, payload)), () => Interlocked.Read(ref received));
            return await Load.ThroughputAsync(duration, () => publisher.PublishAsync(new Message(subject, payload)), () => Interlocked.Read(ref received), $"ours {subject}");
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>The in-process limit: a bounded channel, one writer, one reader.</summary>
    private static async Task<double> ChannelAsync(byte[] payload, TimeSpan duration)
    {
        var channel = Channel.CreateBounded<byte[]>(4096);
        long received = 0;
        var reader = Task.Run(async () =>
        {
            await foreach (var _ in channel.Reader.ReadAllAsync())
            {
                Interlocked.Increment(ref received);
            }
        });
        var rate = await Load.ThroughputAsync(duration, () => channel.Writer.WriteAsync(payload), () => Interlocked.Read(ref received), "channel");
        channel.Writer.Complete();
        await reader;
        return rate;
    }

    private static async Task<double> NatsAsync(string url, byte[] payload, bool queueGroup, TimeSpan duration)
    {
        var subject = $"raw.{Nuid.Next()}";
        long received = 0;
        // The client's default drops messages when a subscriber falls behind; the fair baseline waits, as ours does.
        var opts = new NatsOpts { Url = url, SubPendingChannelFullMode = BoundedChannelFullMode.Wait };
        await using var publisher = new NatsConnection(opts);
        var members = new List<NatsConnection>();
        var readers = new List<Task>();
        try
        {
            for (var i = 0; i < (queueGroup ? 2 : 1); i++)
            {
                var member = new NatsConnection(opts);
                members.Add(member);
                var subscription = await member.SubscribeCoreAsync<byte[]>(subject, queueGroup ? "bench" : null);
                readers.Add(Task.Run(async () =>
                {
                    await foreach (var _ in subscription.Msgs.ReadAllAsync())
                    {
                        Interlocked.Increment(ref received);
                    }
                }));
                await member.PingAsync();
            }

            await WarmUpAsync(() => publisher.PublishAsync(subject, payload), () => Interlocked.Read(ref received));
            return await Load.ThroughputAsync(duration, () => publisher.PublishAsync(subject, payload), () => Interlocked.Read(ref received), $"raw NATS {subject}");
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    private static async Task<double> RedisAsync(string url, byte[] payload, TimeSpan duration)
    {
        var endpoint = new Uri(url);
        var channel = RedisChannel.Literal($"raw.{Nuid.Next()}");
        long received = 0;
        await using var publisher = await ConnectionMultiplexer.ConnectAsync($"{endpoint.Host}:{endpoint.Port}");
        await using var subscriber = await ConnectionMultiplexer.ConnectAsync($"{endpoint.Host}:{endpoint.Port}");
        var queue = await subscriber.GetSubscriber().SubscribeAsync(channel);
        queue.OnMessage(_ => Interlocked.Increment(ref received));
        var pub = publisher.GetSubscriber();
        await WarmUpAsync(() => new ValueTask(pub.PublishAsync(channel, payload)), () => Interlocked.Read(ref received));
        return await Load.ThroughputAsync(duration, () => new ValueTask(pub.PublishAsync(channel, payload)), () => Interlocked.Read(ref received), "raw Redis");
    }

    private static async Task<double> RabbitMqAsync(string url, byte[] payload, bool queueGroup, TimeSpan duration)
    {
        var subject = $"raw.{Nuid.Next()}";
        long received = 0;
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("raw-bench", ExchangeType.Topic);
        var queue = queueGroup ? $"raw-bench-{Nuid.Next()}" : "";
        var consumers = new List<IChannel>();
        try
        {
            if (queueGroup)
            {
                await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: true);
            }
            else
            {
                queue = (await channel.QueueDeclareAsync()).QueueName;
            }

            await channel.QueueBindAsync(queue, "raw-bench", subject);
            for (var i = 0; i < (queueGroup ? 2 : 1); i++)
            {
                var consuming = await connection.CreateChannelAsync();
                consumers.Add(consuming);
                await consuming.BasicQosAsync(0, 1024, false);
                var consumer = new AsyncEventingBasicConsumer(consuming);
                consumer.ReceivedAsync += async (_, delivery) =>
                {
                    Interlocked.Increment(ref received);
                    await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                };
                await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);
            }

            await WarmUpAsync(() => channel.BasicPublishAsync("raw-bench", subject, payload), () => Interlocked.Read(ref received));
            return await Load.ThroughputAsync(duration, () => channel.BasicPublishAsync("raw-bench", subject, payload), () => Interlocked.Read(ref received), "raw RabbitMQ");
        }
        finally
        {
            foreach (var consuming in consumers)
            {
                await consuming.DisposeAsync();
            }
        }
    }

    /// <summary>A first message through, so connecting and subscribing are not timed.</summary>
    internal static async Task WarmUpAsync(Func<ValueTask> send, Func<long> received)
    {
        var before = received();
        await send();
        await Load.WaitForAsync(received, before + 1, "warm-up");
    }
}
