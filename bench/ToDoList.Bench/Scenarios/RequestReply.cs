using System.Diagnostics;
using NATS.Client.Core;
using ToDoList.Messaging;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>request-reply</c>: a responder echoes; requests one at a time, then from 32 concurrent callers. Ours against
/// NATS.Net's own request-reply (the only broker whose client has one), and in process against a bare echo.
/// </summary>
internal static class RequestReply
{
    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        foreach (var url in await brokers.UrlsAsync("nats"))
        {
            foreach (var callers in new[] { 1, 32 })
            {
                var payload = new byte[options.Sizes[0]];
                Console.WriteLine($"request-reply on nats, {callers} caller(s), {payload.Length} B");
                await Compare.RunAsync($"request-reply/nats/{callers}-callers", "req/s", options,
                    () => OursAsync(url, payload, callers, options.Duration),
                    () => NatsAsync(url, payload, callers, options.Duration));
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
