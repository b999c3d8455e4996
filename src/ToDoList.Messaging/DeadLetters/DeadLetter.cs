using System.Globalization;

namespace ToDoList.Messaging.DeadLetters;

/// <summary>A message that failed every try, with why.</summary>
/// <param name="Id">The <c>deadletter-id</c> header: the same on every redelivery of the dead letter, so it is kept once.</param>
/// <param name="Subject">Where the message was first published, and where a replay sends it.</param>
/// <param name="EventId">The CloudEvents id of the message, null for a raw payload.</param>
/// <param name="Error">Why the last try failed.</param>
/// <param name="QueueGroup">The group whose handler gave up, null for a plain subscriber.</param>
/// <param name="Attempts">Tries made before giving up.</param>
/// <param name="Time">When it became a dead letter.</param>
/// <param name="Message">The message as it first came (headers and data), plus the <c>deadletter-*</c> headers.</param>
public sealed record DeadLetter(string Id, string Subject, string? EventId, string Error, string? QueueGroup, int Attempts, DateTimeOffset Time, Message Message)
{
    /// <summary>The longest id kept as it came; a longer <c>deadletter-id</c> (published by hand) gets a new one.</summary>
    public const int MaxIdLength = 64;

    /// <summary>The first 512 bytes of the data as text, for lists.</summary>
    public string DataPreview => System.Text.Encoding.UTF8.GetString(Message.Data.Span[..Math.Min(Message.Data.Length, 512)]);

    /// <summary>Reads a message published on <c>deadletter.&lt;subject&gt;</c>: the headers the bus adds say why.</summary>
    public static DeadLetter From(Message message, TimeProvider? time = null)
    {
        var headers = message.Headers;
        return new DeadLetter(
            headers[MessagingHeaders.DeadLetterId] is { Length: > 0 and <= MaxIdLength } id ? id : Nuid.Next(),
            headers[MessagingHeaders.DeadLetterSubject] ?? SubjectOf(message.Subject),
            message.Id,
            headers[MessagingHeaders.DeadLetterError] ?? "",
            headers[MessagingHeaders.DeadLetterGroup] is { Length: > 0 } group ? group : null,
            int.TryParse(headers[MessagingHeaders.DeadLetterAttempts], CultureInfo.InvariantCulture, out var attempts) ? attempts : 0,
            DateTimeOffset.TryParse(headers[MessagingHeaders.DeadLetterTime], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var when)
                ? when
                : (time ?? TimeProvider.System).GetUtcNow(),
            message);
    }

    /// <summary>The message to publish again: as it first came, without the <c>deadletter-*</c> headers.</summary>
    public Message ToReplay()
    {
        var headers = Message.Headers.Clone();
        foreach (var name in headers.Select(h => h.Key).Where(n => n.StartsWith("deadletter-", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            headers[name] = null;
        }

        return new Message(Subject, Message.Data, headers);
    }

    private static string SubjectOf(string deadLetterSubject) =>
        deadLetterSubject.StartsWith(Subjects.DeadLetterPrefix, StringComparison.Ordinal) ? deadLetterSubject[Subjects.DeadLetterPrefix.Length..] : deadLetterSubject;
}
