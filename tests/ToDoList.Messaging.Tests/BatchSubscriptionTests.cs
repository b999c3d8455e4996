using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
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

    [Fact]
    public async Task A_batch_still_filling_waits_BatchWait_for_more_and_a_lone_message_goes_at_once()
    {
        var clock = new ManualClock();
        await using var bus = new MessageBus(new EmbeddedTransport(), timeProvider: clock);
        var batches = Channel.CreateUnbounded<IReadOnlyList<string>>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await bus.SubscribeBatchAsync(Subject, async (batch, _) =>
        {
            await batches.Writer.WriteAsync([.. batch.Select(Recorder.TextOf)]);
            await gate.Task;
        }, new SubscribeOptions { BatchWait = TimeSpan.FromMinutes(1) });

        // A lone message: handled at once, no wait. The handler then holds the loop, so the next two arrive together.
        await bus.PublishAsync(new Message(Subject, "a"u8.ToArray()));
        Assert.Equal(["a"], await Wait.For(batches.Reader.ReadAsync(), "the lone message"));
        await bus.PublishAsync(new Message(Subject, "b"u8.ToArray()));
        await bus.PublishAsync(new Message(Subject, "c"u8.ToArray()));
        gate.SetResult();

        // Two together, the batch not full: it waits, and what comes meanwhile joins it.
        var endWait = await Wait.For(clock.NextTimerAsync(), "the batch to wait for more");
        await bus.PublishAsync(new Message(Subject, "d"u8.ToArray()));
        Assert.False(batches.Reader.TryRead(out _));
        endWait();
        Assert.Equal(["b", "c", "d"], await Wait.For(batches.Reader.ReadAsync(), "the batch after its wait"));
    }

    /// <summary>A clock whose timers fire only when the test says so: a test sees a wait begin, and ends it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly Channel<Action> _timers = Channel.CreateUnbounded<Action>();

        public ValueTask<Action> NextTimerAsync() => _timers.Reader.ReadAsync();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new Timer(() => callback(state));
            _timers.Writer.TryWrite(timer.Fire);
            return timer;
        }

        private sealed class Timer(Action fire) : ITimer
        {
            private int _done;

            public void Fire()
            {
                if (Interlocked.Exchange(ref _done, 1) == 0)
                {
                    fire();
                }
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose() => _done = 1;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
