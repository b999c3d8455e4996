using System.Collections.Concurrent;
using System.Text;
using ToDoList.Messaging.Embedded;

namespace ToDoList.Messaging.Tests;

/// <summary>Batch handlers: a backlog arrives in batches acknowledged together; a failing batch goes through one message at a time.</summary>
public sealed class BatchSubscriptionTests
{
    private const string Subject = "events.todo.newitem";

    [Fact]
    public async Task A_backlog_reaches_the_batch_handler_in_batches_and_every_message_is_acknowledged()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        await bus.DeclareDurableGroupAsync(Subject, "savers");
        var sent = Enumerable.Range(0, 300).Select(i => $"item {i}").ToList();
        foreach (var text in sent)
        {
            await bus.PublishAsync(new Message(Subject, Encoding.UTF8.GetBytes(text)));
        }

        var batches = new ConcurrentQueue<IReadOnlyList<string>>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await bus.SubscribeBatchAsync(Subject, (batch, _) =>
        {
            batches.Enqueue([.. batch.Select(Recorder.TextOf)]);
            if (batches.Sum(b => b.Count) >= sent.Count)
            {
                all.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }, new SubscribeOptions { QueueGroup = "savers", Durable = true, MaxBatch = 64 });

        await Wait.For(all.Task, "every message handled");
        Assert.Equal(sent, batches.SelectMany(b => b));
        Assert.Contains(batches, b => b.Count > 1);
        Assert.All(batches, b => Assert.InRange(b.Count, 1, 64));
        var group = (await bus.InspectBrokerAsync()).Groups.Single(g => g.Group == "savers");
        Assert.Equal((0, 0), (group.Pending, group.Unacknowledged ?? -1));
    }

    [Fact]
    public async Task A_poison_message_in_a_batch_is_dead_lettered_alone_and_the_others_are_handled()
    {
        await using var bus = new MessageBus(new EmbeddedTransport(), new MessagingOptions { Retry = new RetryPolicy { MaxDeliver = 2, InitialDelay = TimeSpan.FromMilliseconds(1) } });
        var deadLetters = new Recorder();
        await bus.SubscribeAsync("deadletter.>", deadLetters.Handler);
        await bus.DeclareDurableGroupAsync(Subject, "savers");
        var sent = Enumerable.Range(0, 20).Select(i => i == 7 ? "bad" : $"item {i}").ToList();
        foreach (var text in sent)
        {
            await bus.PublishAsync(new Message(Subject, Encoding.UTF8.GetBytes(text)));
        }

        var handled = new ConcurrentQueue<string>();
        await bus.SubscribeBatchAsync(Subject, (batch, _) =>
        {
            var texts = batch.Select(Recorder.TextOf).ToList();
            if (texts.Contains("bad"))
            {
                throw new InvalidOperationException("one bad item fails the whole statement");
            }

            foreach (var text in texts)
            {
                handled.Enqueue(text);
            }

            return ValueTask.CompletedTask;
        }, new SubscribeOptions { QueueGroup = "savers", Durable = true });

        var dead = await deadLetters.WaitForCountAsync(1);
        Assert.Equal("bad", Recorder.TextOf(dead[0]));
        await Wait.For(Task.Run(async () =>
        {
            while (handled.Count < sent.Count - 1)
            {
                await Task.Delay(10);
            }
        }), "the good messages handled");
        Assert.Equal(sent.Where(t => t != "bad").Order(), handled.Order());
    }
}
