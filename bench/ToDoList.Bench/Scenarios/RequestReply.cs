using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using NATS.Client.Core;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using StackExchange.Redis;
using ToDoList.Messaging;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>request-reply</c>: a responder echoes; requests one at a time, then from 32 concurrent callers. Ours against
/// NATS.Net's own request-reply; on Redis and RabbitMQ, whose clients have none, against the usual hand-made one on the
/// raw client: Redis pub/sub with a reply channel per requester, RabbitMQ's direct reply-to
/// (<c>amq.rabbitmq.reply-to</c>); each with a correlation id.
/// </summary>
internal static class RequestReply
{
    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        foreach (var url in await brokers.UrlsAsync("nats", "redis", "amqp"))
        {
            var transport = Brokers.NameOf(url);
            foreach (var callers in new[] { 1, 32 })
            {
                var payload = new byte[options.Sizes[0]];
                Console.WriteLine($"request-reply on {transport}, {callers} caller(s), {payload.Length} B");
                await Compare.RunAsync($"request-reply/{transport}/{callers}-callers", "req/s", options,
                    () => OursAsync(url, payload, callers, options.Duration),
                    () => transport switch
                    {
                        "nats" => NatsAsync(url, payload, callers, options.Duration),
                        "redis" => RedisAsync(url, payload, callers, options.Duration),
                        _ => RabbitMqAsync(url, payload, callers, options.Duration),
                    });
            }
        }
    }

    private static async Task<double> OursAsync(string url, byte[] payload, int callers, TimeSpan duration)
    {
        var subject = $"bench.{Nuid.Next()}";
        await using var responder = await Brokers.ConnectAsync(url);
        await using var requester = await Brokers.ConnectAsync(url);
        await responder.SubscribeAsync(subject, (context, token) => context.ReplyRawAsync(context.Message.Data, cancellationToken: token), new SubscribeOptions { MaxConcurrency = 32 });
        await requester.RequestAsync(new Message(subject, payload), TimeSpan.FromSeconds(10));
        return await CallersAsync(callers, duration, () => requester.RequestAsync(new Message(subject, payload), TimeSpan.FromSeconds(10)));
    }

    private static async Task<double> NatsAsync(string url, byte[] payload, int callers, TimeSpan duration)
    {
        var subject = $"raw.{Nuid.Next()}";
        await using var responder = new NatsConnection(new NatsOpts { Url = url });
        await using var requester = new NatsConnection(new NatsOpts { Url = url });
        var subscription = await responder.SubscribeCoreAsync<byte[]>(subject);
        var replying = Task.Run(async () =>
        {
            await foreach (var msg in subscription.Msgs.ReadAllAsync())
            {
                await msg.ReplyAsync(msg.Data);
            }
        });
        await responder.PingAsync();
        await requester.RequestAsync<byte[], byte[]>(subject, payload);
        var rate = await CallersAsync(callers, duration, () => requester.RequestAsync<byte[], byte[]>(subject, payload).AsTask());
        await subscription.UnsubscribeAsync();
        await replying;
        return rate;
    }

    /// <summary>
    /// Raw Redis: a request is the requester's reply channel, a line break, an 8-byte correlation id and the data; the
    /// responder publishes all after the line break to that channel, without waiting for each publish.
    /// </summary>
    private static async Task<double> RedisAsync(string url, byte[] payload, int callers, TimeSpan duration)
    {
        var endpoint = new Uri(url);
        var requests = RedisChannel.Literal($"raw.{Nuid.Next()}");
        var replies = $"raw.replies.{Nuid.Next()}";
        await using var responder = await ConnectionMultiplexer.ConnectAsync($"{endpoint.Host}:{endpoint.Port}");
        await using var requester = await ConnectionMultiplexer.ConnectAsync($"{endpoint.Host}:{endpoint.Port}");
        var answering = responder.GetSubscriber();
        (await answering.SubscribeAsync(requests)).OnMessage(request =>
        {
            var bytes = (byte[])request.Message!;
            var end = Array.IndexOf(bytes, (byte)'\n');
            answering.Publish(RedisChannel.Literal(Encoding.UTF8.GetString(bytes, 0, end)), bytes.AsMemory(end + 1), CommandFlags.FireAndForget);
        });

        var waiting = new ConcurrentDictionary<long, TaskCompletionSource>();
        var asking = requester.GetSubscriber();
        (await asking.SubscribeAsync(RedisChannel.Literal(replies))).OnMessage(reply =>
        {
            if (waiting.TryRemove(BinaryPrimitives.ReadInt64LittleEndian((byte[])reply.Message!), out var answered))
            {
                answered.TrySetResult();
            }
        });

        var prefix = Encoding.UTF8.GetBytes(replies + "\n");
        long next = 0;
        async Task Request()
        {
            var id = Interlocked.Increment(ref next);
            var request = new byte[prefix.Length + 8 + payload.Length];
            prefix.CopyTo(request, 0);
            BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(prefix.Length), id);
            payload.CopyTo(request, prefix.Length + 8);
            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting[id] = answered;
            await asking.PublishAsync(requests, request);
            await answered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        await Request();
        return await CallersAsync(callers, duration, Request);
    }

    /// <summary>
    /// Raw RabbitMQ: RPC with direct reply-to. The requester consumes <c>amq.rabbitmq.reply-to</c> and publishes to the
    /// responder's queue with it as the reply address and a correlation id; the responder (manual acks, prefetch 1024,
    /// as in the other raw consumers) publishes the data back to that address.
    /// </summary>
    private static async Task<double> RabbitMqAsync(string url, byte[] payload, int callers, TimeSpan duration)
    {
        const string DirectReplyTo = "amq.rabbitmq.reply-to";
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var responderConnection = await factory.CreateConnectionAsync();
        await using var requesterConnection = await factory.CreateConnectionAsync();
        await using var responding = await responderConnection.CreateChannelAsync();
        var queue = (await responding.QueueDeclareAsync()).QueueName;
        await responding.BasicQosAsync(0, 1024, false);
        var responder = new AsyncEventingBasicConsumer(responding);
        responder.ReceivedAsync += async (_, request) =>
        {
            var properties = new BasicProperties { CorrelationId = request.BasicProperties.CorrelationId };
            await responding.BasicPublishAsync("", request.BasicProperties.ReplyTo!, false, properties, request.Body);
            await responding.BasicAckAsync(request.DeliveryTag, multiple: false);
        };
        await responding.BasicConsumeAsync(queue, autoAck: false, responder);

        await using var asking = await requesterConnection.CreateChannelAsync();
        var waiting = new ConcurrentDictionary<string, TaskCompletionSource>();
        var replies = new AsyncEventingBasicConsumer(asking);
        replies.ReceivedAsync += (_, reply) =>
        {
            if (waiting.TryRemove(reply.BasicProperties.CorrelationId!, out var answered))
            {
                answered.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await asking.BasicConsumeAsync(DirectReplyTo, autoAck: true, replies);

        long next = 0;
        async Task Request()
        {
            var id = Interlocked.Increment(ref next).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting[id] = answered;
            await asking.BasicPublishAsync("", queue, false, new BasicProperties { ReplyTo = DirectReplyTo, CorrelationId = id }, payload);
            await answered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        await Request();
        return await CallersAsync(callers, duration, Request);
    }

    private static async Task<double> CallersAsync(int callers, TimeSpan duration, Func<Task> call)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                await call();
                Interlocked.Increment(ref done);
            }
        })));
        return done / clock.Elapsed.TotalSeconds;
    }
}
