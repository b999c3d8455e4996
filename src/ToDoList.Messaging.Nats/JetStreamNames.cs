using System.Security.Cryptography;
using System.Text;

namespace ToDoList.Messaging.Nats;

/// <summary>How subjects and queue groups become JetStream stream and consumer names.</summary>
internal static class JetStreamNames
{
    /// <summary>
    /// The stream that keeps a durable subscription's messages: one per first subject token
    /// (<c>events.todo.newitem</c> → <c>EVENTS</c>), capturing the subjects of the groups on it
    /// (a one-token subject such as <c>channel21</c> is a durable subject too).
    /// </summary>
    public static string StreamFor(string subject)
    {
        var first = FirstToken(subject);
        if (first is "*" or ">" || first.StartsWith('$') || first == "_INBOX")
        {
            throw new TransportException($"A durable subscription on NATS needs a subject whose first token names its stream, not '{subject}' (a wildcard, '$…' or '_INBOX' cannot).");
        }

        return Sanitize(first.ToUpperInvariant(), first);
    }

    /// <summary>The durable consumer of a queue group; names outside <c>[A-Za-z0-9_-]</c> get a hash so two groups never share one.</summary>
    public static string ConsumerFor(string queueGroup) => Sanitize(queueGroup, queueGroup);

    public static string FirstToken(string subject)
    {
        var dot = subject.IndexOf('.');
        return dot < 0 ? subject : subject[..dot];
    }

    private static string Sanitize(string name, string original)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        if (builder.ToString() == name && name.Length <= 200)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(original)).AsSpan(0, 4));
        var kept = builder.ToString();
        return $"{kept[..Math.Min(kept.Length, 180)]}_{hash}";
    }
}
