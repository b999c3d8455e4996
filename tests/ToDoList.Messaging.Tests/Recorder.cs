using System.Text;

namespace ToDoList.Messaging.Tests;

/// <summary>
/// A handler that keeps every message it is given and lets a test wait, with a deadline, until
/// what it expects has come. An optional inner handler runs after the message is recorded, so
/// attempts that throw or block are recorded too.
/// </summary>
public sealed class Recorder(MessageHandler? inner = null)
{
    private readonly object _gate = new();
    private readonly List<MessageContext> _received = [];
    private readonly List<(Func<IReadOnlyList<MessageContext>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public MessageHandler Handler => RecordAsync;

    public IReadOnlyList<MessageContext> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    public IReadOnlyList<string> Texts => Received.Select(TextOf).ToList();

    public static string TextOf(MessageContext context) => Encoding.UTF8.GetString(context.Message.Data.Span);

    /// <summary>Completes when <paramref name="condition"/> holds for what came so far; no deadline of its own.</summary>
    public Task When(Func<IReadOnlyList<MessageContext>, bool> condition)
    {
        lock (_gate)
        {
            if (condition(_received))
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
            return done.Task;
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages came and returns the first <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<MessageContext>> WaitForCountAsync(int count)
    {
        await Wait.For(When(r => r.Count >= count), $"{count} message(s); got {Received.Count}").ConfigureAwait(false);
        return Received.Take(count).ToList();
    }

    /// <summary>Waits for a message whose data is <paramref name="text"/>.</summary>
    public async Task<MessageContext> WaitForTextAsync(string text)
    {
        await Wait.For(When(r => r.Any(c => TextOf(c) == text)), $"a message '{text}'").ConfigureAwait(false);
        return Received.First(c => TextOf(c) == text);
    }

    public bool HasText(string text) => Received.Any(c => TextOf(c) == text);

    private async ValueTask RecordAsync(MessageContext context, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _received.Add(context);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(_received))
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (inner is not null)
        {
            await inner(context, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Waiting on events with a deadline, never sleeping.</summary>
public static class Wait
{
    /// <summary>Long enough for a loaded machine; a passing test never waits for it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static async Task For(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Deadline).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Waited {Deadline.TotalSeconds:0} s for {what}.");
        }
    }

    public static async Task<T> For<T>(Task<T> task, string what)
    {
        await For((Task)task, what).ConfigureAwait(false);
        return await task.ConfigureAwait(false);
    }

    public static Task For(ValueTask task, string what) => For(task.AsTask(), what);

    public static Task<T> For<T>(ValueTask<T> task, string what) => For(task.AsTask(), what);
}
