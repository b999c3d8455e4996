using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ToDoList.Messaging.DeadLetters;

/// <summary>Keeps dead letters in this process's memory, bounded by <see cref="Capacity"/>: when full the oldest goes, with an error in the log.</summary>
public sealed partial class MemoryDeadLetterRepository(ILogger<MemoryDeadLetterRepository>? logger = null) : IDeadLetterRepository
{
    private readonly ILogger _logger = logger ?? NullLogger<MemoryDeadLetterRepository>.Instance;
    private readonly ConcurrentDictionary<string, DeadLetter> _letters = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Capacity { get; init; } = 10_000;

    public ValueTask<bool> AddAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        if (!_letters.TryAdd(letter.Id, letter))
        {
            return ValueTask.FromResult(false);
        }

        _order.Enqueue(letter.Id);
        while (_letters.Count > Capacity && _order.TryDequeue(out var oldest))
        {
            if (_letters.TryRemove(oldest, out var dropped))
            {
                LogEvicted(_logger, dropped.Subject, dropped.EventId, Capacity);
            }
        }

        return ValueTask.FromResult(true);
    }

    public ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subject, int limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<DeadLetter>>(_letters.Values
            .Where(l => subject is null || Subjects.Matches(subject, l.Subject))
            .OrderBy(l => l.Time)
            .Take(limit)
            .ToList());

    public ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken) => ValueTask.FromResult(_letters.GetValueOrDefault(id));

    public ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken) => ValueTask.FromResult(_letters.TryRemove(id, out _));

    public ValueTask<int> CountAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_letters.Count);

    [LoggerMessage(20, LogLevel.Error, "Dead letter store full ({Capacity}): forgot the oldest, {EventId} on {Subject}")]
    private static partial void LogEvicted(ILogger logger, string subject, string? eventId, int capacity);
}
