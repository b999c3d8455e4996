using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace ToDoList.Messaging.Nats;

/// <summary>
/// NATS refuses a publish the user may not make with an asynchronous <c>-ERR 'Permissions Violation for Publish to "S"'</c>
/// and nothing else: a JetStream publish would wait for an acknowledgement that never comes and fail as a timeout.
/// The transport hands every such error here, so that a publish waiting on that subject fails at once, saying why:
/// its watch is cancelled (a token the publish waits with, cheaper on every publish than racing a task against it).
/// </summary>
internal sealed partial class PermissionViolations
{
    private const int MaxWatched = 10_000;

    private readonly ConcurrentDictionary<string, Refusal> _publishes = new(StringComparer.Ordinal);

    /// <summary>The watch on publishes to <paramref name="subject"/>: cancelled, with the server's error, when one is refused from now on.</summary>
    public Refusal WatchPublish(string subject)
    {
        if (_publishes.TryGetValue(subject, out var watch))
        {
            return watch;
        }

        // Counted only when adding: Count takes every lock of the dictionary.
        if (_publishes.Count >= MaxWatched)
        {
            // Bounded: a publish whose watch was dropped still fails, by its acknowledgement's timeout.
            _publishes.Clear();
        }

        return _publishes.GetOrAdd(subject, static _ => new Refusal());
    }

    /// <summary>Takes a server error; true when it was a permissions violation. Publishes waiting on a refused subject now fail.</summary>
    public bool Record(string error)
    {
        var match = Violation().Match(error);
        if (!match.Success)
        {
            return false;
        }

        if (match.Groups["kind"].Value == "Publish" && _publishes.TryRemove(match.Groups["subject"].Value, out var refused))
        {
            refused.Refuse(error.Trim());
        }

        return true;
    }

    /// <summary>Publishes to one subject wait with <see cref="Token"/>; it is cancelled when the server refuses one.</summary>
    public sealed class Refusal
    {
        private readonly CancellationTokenSource _refused = new();

        public CancellationToken Token => _refused.Token;

        /// <summary>The server's error; null until refused.</summary>
        public string? Error { get; private set; }

        public void Refuse(string error)
        {
            Error = error;
            // Not on the connection's reading loop: the cancelled publishes' continuations run elsewhere.
            _ = _refused.CancelAsync();
        }
    }

    [GeneratedRegex("""Permissions Violation for (?<kind>Publish|Subscription) to "(?<subject>[^"]+)""", RegexOptions.CultureInvariant)]
    private static partial Regex Violation();
}
