using System.Text;
using System.Threading.Channels;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Embedded;

/// <summary>What the in-process transport promises beyond the conformance suite.</summary>
[Collection(StressCollection.Name)]
public sealed class EmbeddedTransportTests
{
    [Fact]
    public async Task Durable_group_at_MaxMessagesPerGroup_refuses_a_publish_with_QueueFullException()
    {
        await using var bus = new MessageBus(new EmbeddedTransport(options: new EmbeddedOptions { MaxMessagesPerGroup = 3 }));
        var subscription = await bus.SubscribeAsync("jobs", new Recorder().Handler, new SubscribeOptions { QueueGroup = "workers", Durable = true });
        await subscription.DisposeAsync();
        for (var i = 0; i < 3; i++)
        {
            await bus.PublishAsync(new Message("jobs", Encoding.UTF8.GetBytes($"job {i}")));
        }

        var error = await Assert.ThrowsAsync<QueueFullException>(() => bus.PublishAsync(new Message("jobs", Encoding.UTF8.GetBytes("job 3"))).AsTask());

        Assert.Contains("workers", error.Message);
        var recorder = new Recorder();
        await bus.SubscribeAsync("jobs", recorder.Handler, new SubscribeOptions { QueueGroup = "workers", Durable = true });
        await recorder.WaitForCountAsync(3);
        Assert.Equal(["job 0", "job 1", "job 2"], recorder.Texts);
    }

    [Fact]
    public async Task Durable_group_takes_messages_again_once_members_acknowledged_them()
    {
        await using var bus = new MessageBus(new EmbeddedTransport(options: new EmbeddedOptions { MaxMessagesPerGroup = 2 }));
        var recorder = new Recorder();
        await bus.SubscribeAsync("jobs", recorder.Handler, new SubscribeOptions { QueueGroup = "workers", Durable = true });

        for (var i = 0; i < 10; i++)
        {
            // Each is acknowledged before the next: the group never holds more than one.
            await bus.PublishAsync(new Message("jobs", Encoding.UTF8.GetBytes($"job {i}")));
            await recorder.WaitForCountAsync(i + 1);
        }

        Assert.Equal(10, recorder.Received.Count);
    }

    [Fact]
    public async Task Subscriber_added_while_its_subject_is_being_published_gets_what_follows()
    {
        await using var transport = new EmbeddedTransport();
        using var stop = new CancellationTokenSource();
        var noise = new Message("hot", Encoding.UTF8.GetBytes("noise"));
        var publishers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await transport.PublishAsync(noise, CancellationToken.None);
            }
        })).ToList();

        try
        {
            for (var i = 0; i < 2000; i++)
            {
                await using var subscription = await transport.SubscribeAsync(new SubscriptionRequest("hot", null, false, 1_000_000, TimeSpan.Zero), CancellationToken.None);
                var marker = $"marker {i}";
                await transport.PublishAsync(new Message("hot", Encoding.UTF8.GetBytes(marker)), CancellationToken.None);
                Assert.True(await ContainsAsync(subscription.Deliveries, marker), $"subscription {i} missed a message published after it subscribed");
            }
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(publishers);
        }
    }

    private static async Task<bool> ContainsAsync(ChannelReader<Delivery> deliveries, string text)
    {
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        try
        {
            await foreach (var delivery in deliveries.ReadAllAsync(deadline.Token))
            {
                if (Encoding.UTF8.GetString(delivery.Message.Data.Span) == text)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return false;
    }
}
