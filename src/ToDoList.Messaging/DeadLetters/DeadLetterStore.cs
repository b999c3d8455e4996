using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.DeadLetters;

/// <summary>A message that failed every try, with why.</summary>
public sealed record DeadLetter(string Id, string Subject, string? EventId, string Error, string? QueueGroup, int Attempts, DateTimeOffset Time, Message Message)
{
    public string DataPreview => System.Text.Encoding.UTF8.GetString(Message.Data.Span[..Math.Min(Message.Data.Length, 512)]);
}

/// <summary>
/// Keeps dead letters so they can be listed, inspected, replayed to their subject, or deleted.
/// Bounded by <see cref="Capacity"/>; when full the oldest goes, with an error in the log.
/// </summary>
public sealed partial class DeadLetterStore(MessageBus bus, ILogger<DeadLetterStore> logger)
{
    public const string QueueGroup = "deadletters";

    /// <summary>What the store's durable group follows: the dead letters of every subject.</summary>
    public const string Subject = Subjects.DeadLetterPrefix + ">";

    private readonly ConcurrentDictionary<string, DeadLetter> _letters = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Capacity { get; init; } = 10_000;

    public int Count => _letters.Count;

    public IReadOnlyList<DeadLetter> List() => _letters.Values.OrderBy(l => l.Time).ToList();

    public DeadLetter? Get(string id) => _letters.GetValueOrDefault(id);

    /// <summary>Publishes the message again on its original subject, as it first came, and forgets the dead letter.</summary>
    public async ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default)
    {
        // Taken out before publishing, so that two replays at once publish it once; put back if the publish fails.
        if (!_letters.TryRemove(id, out var letter))
        {
            return false;
        }

        var headers = letter.Message.Headers.Clone();
        foreach (var name in headers.Select(h => h.Key).Where(n => n.StartsWith("deadletter-", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            headers[name] = null;
        }

        try
        {
            await bus.PublishAsync(new Message(letter.Subject, letter.Message.Data, headers), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _letters.TryAdd(id, letter);
            throw;
        }

        return true;
    }

    public bool Delete(string id) => _letters.TryRemove(id, out _);

    internal ValueTask Add(Message message)
    {
        var headers = message.Headers;
        var subject = headers[MessagingHeaders.DeadLetterSubject] ?? message.Subject[Subjects.DeadLetterPrefix.Length..];
        var letter = new DeadLetter(
            Nuid.Next(),
            subject,
            message.Id,
            headers[MessagingHeaders.DeadLetterError] ?? "",
            headers[MessagingHeaders.DeadLetterGroup] is { Length: > 0 } group ? group : null,
            int.TryParse(headers[MessagingHeaders.DeadLetterAttempts], CultureInfo.InvariantCulture, out var attempts) ? attempts : 0,
            DateTimeOffset.TryParse(headers[MessagingHeaders.DeadLetterTime], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) ? time : DateTimeOffset.UtcNow,
            message);
        _letters[letter.Id] = letter;
        _order.Enqueue(letter.Id);
        while (_letters.Count > Capacity && _order.TryDequeue(out var oldest))
        {
            if (_letters.TryRemove(oldest, out var dropped))
            {
                LogEvicted(logger, dropped.Subject, dropped.EventId, Capacity);
            }
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(20, LogLevel.Error, "Dead letter store full ({Capacity}): forgot the oldest, {EventId} on {Subject}")]
    private static partial void LogEvicted(ILogger logger, string subject, string? eventId, int capacity);
}
