using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace ToDoList.Messaging.Nats;

/// <summary>
/// NATS refuses a publish the user may not make with an asynchronous <c>-ERR 'Permissions Violation for Publish to "S"'</c>
/// and nothing else: a JetStream publish would wait for an acknowledgement that never comes and fail as a timeout.
/// The transport hands every such error here, so that a publish waiting on that subject fails at once, saying why.
/// </summary>
internal sealed partial class PermissionViolations
{
    private const int MaxWatched = 10_000;

    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _publishes = new(StringComparer.Ordinal);

    /// <summary>Completes with the server's error when a publish to <paramref name="subject"/> is refused from now on.</summary>
    public Task<string> RefusalOfPublish(string subject)
    {
        if (_publishes.Count >= MaxWatched)
        {
            // Bounded: a publish whose watch was dropped still fails, by its acknowledgement's timeout.
            _publishes.Clear();
        }

        return _publishes.GetOrAdd(subject, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
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
            refused.TrySetResult(error.Trim());
        }

        return true;
    }

    [GeneratedRegex("""Permissions Violation for (?<kind>Publish|Subscription) to "(?<subject>[^"]+)""", RegexOptions.CultureInvariant)]
    private static partial Regex Violation();
}
