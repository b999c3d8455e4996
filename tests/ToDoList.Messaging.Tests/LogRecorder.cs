using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.Tests;

/// <summary>A logger provider that keeps every entry, so a test can check what a component said (and that it said no error).</summary>
public sealed class LogRecorder : ILoggerProvider, ILoggerFactory
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly object _gate = new();
    private readonly List<(Func<Entry, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public IReadOnlyList<Entry> Errors => _entries.Where(e => e.Level >= LogLevel.Error).ToList();

    /// <summary>Completes when an entry matching <paramref name="condition"/> was logged; no deadline of its own.</summary>
    public Task When(Func<Entry, bool> condition)
    {
        lock (_gate)
        {
            if (_entries.Any(condition))
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
            return done.Task;
        }
    }

    /// <summary>Completes when <paramref name="count"/> entries matching <paramref name="condition"/> were logged.</summary>
    public Task WhenCount(Func<Entry, bool> condition, int count)
    {
        var seen = 0;
        return When(e => condition(e) && Interlocked.Increment(ref seen) >= count);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private void Add(Entry entry)
    {
        lock (_gate)
        {
            _entries.Enqueue(entry);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(entry))
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}: {Message} {Exception?.Message}";
    }

    private sealed class Logger(LogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            recorder.Add(new Entry(category, logLevel, formatter(state, exception), exception));
    }
}
