using System.Collections.Concurrent;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace ToDoList.Messaging.Nats;

/// <summary>
/// Knows which JetStream stream captures a subject, so that a publish to it waits for the
/// stream's acknowledgement, and makes the stream a durable subscription needs. Answers are
/// asked of the server once per subject and kept: "captured" until a publish finds the stream
/// gone, "not captured" until a stream advisory, a reconnect, or <see cref="NatsTransportOptions.StreamLookupTtl"/>.
/// </summary>
internal sealed class StreamDirectory(INatsJSContext jetStream, bool jetStreamAvailable, TimeSpan notCapturedTtl, TimeSpan maxAge, TimeProvider time)
{
    private const int MaxEntries = 10_000;
    private const int NameInUse = 10058;
    private const int SubjectsOverlap = 10065;

    private readonly ConcurrentDictionary<string, Entry> _bySubject = new(StringComparer.Ordinal);
    private int _generation;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Forget"/>: for tests that wait for news of a stream.</summary>
    internal Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>The stream that captures <paramref name="subject"/>, or null: then a plain publish is all there is.</summary>
    public ValueTask<string?> StreamOfAsync(string subject, CancellationToken cancellationToken)
    {
        // Reply subjects are unique per request and never kept; a server without JetStream keeps nothing.
        if (!jetStreamAvailable || subject.StartsWith(Subjects.InboxPrefix, StringComparison.Ordinal))
        {
            return ValueTask.FromResult<string?>(null);
        }

        if (_bySubject.TryGetValue(subject, out var entry) && entry.Generation == Volatile.Read(ref _generation)
            && (entry.Stream is not null || time.GetTimestamp() < entry.ExpiresAt))
        {
            return ValueTask.FromResult(entry.Stream);
        }

        return LookUpAsync(subject, entry, cancellationToken);
    }

    /// <summary>
    /// Every answer is to be asked again: a stream was created, changed or deleted, or the connection
    /// was lost. The old answers stay as a fallback while the server cannot answer (JetStream starting).
    /// </summary>
    public void Forget()
    {
        Interlocked.Increment(ref _generation);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Finds the stream that captures a durable subscription's subject, or makes ours capture it (limits retention, file
    /// storage): one stream per first subject token, capturing the subjects durable groups follow and nothing else, so an
    /// event no group keeps (<c>events.todo.itemsaved</c>) is a plain NATS publish, not stored. A stream made here
    /// captures the subjects <paramref name="alongside"/> too (groups declared together), so that it need not be updated
    /// for them: an update needs a right a role's user may lack.
    /// </summary>
    public async Task<string> EnsureStreamAsync(string subject, IEnumerable<string> alongside, CancellationToken cancellationToken)
    {
        var name = JetStreamNames.StreamFor(subject);
        for (var attempt = 1; ; attempt++)
        {
            var overlapping = await FindAsync(subject, cancellationToken).ConfigureAwait(false);
            if (overlapping is not null && await CapturesAsync(overlapping, subject, cancellationToken).ConfigureAwait(false))
            {
                return overlapping;
            }

            try
            {
                if (overlapping is not null)
                {
                    // It keeps part of what the pattern matches (a group on events.todo.newitem, now one on events.todo.*):
                    // streams may not overlap, so that one takes the pattern.
                    await CaptureAsync(overlapping, subject, cancellationToken).ConfigureAwait(false);
                    Forget();
                    continue;
                }

                await jetStream.CreateStreamAsync(
                    new StreamConfig(name, Captured([subject, .. alongside]))
                    {
                        // Kept for MaxAge whoever acknowledged it: under interest retention a server restarted
                        // mid-burst acknowledges, then drops, what arrives before it has loaded the consumers.
                        // Each group keeps its place (its consumer), and a new group starts at its creation.
                        Retention = StreamConfigRetention.Limits,
                        MaxAge = maxAge,
                        Storage = StreamConfigStorage.File,
                        Discard = StreamConfigDiscard.Old,
                    },
                    cancellationToken).ConfigureAwait(false);
                Forget();
                return name;
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == NameInUse && attempt < 5)
            {
                // Our stream keeps other groups' subjects: add this one, then look again (another process
                // adding its own subject at the same moment may have written over ours).
                await CaptureAsync(name, subject, cancellationToken).ConfigureAwait(false);
                Forget();
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == SubjectsOverlap && attempt < 5)
            {
                // Another stream that captures some of these subjects appeared meanwhile: look again.
            }
        }
    }

    /// <summary>True when the stream's subjects take every subject <paramref name="subject"/> matches.</summary>
    public async Task<bool> CapturesAsync(string stream, string subject, CancellationToken cancellationToken)
    {
        var info = await jetStream.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (info.Info.Config.Subjects ?? []).Any(captured => Subjects.Covers(captured, subject));
    }

    /// <summary>
    /// Adds <paramref name="subject"/> to the stream's subjects. Every consumer's filter stays captured whatever the
    /// stream's config said when read (JetStream has no compare-and-set on a stream's configuration).
    /// </summary>
    private async Task CaptureAsync(string name, string subject, CancellationToken cancellationToken)
    {
        var stream = await jetStream.GetStreamAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        var wanted = new List<string>(stream.Info.Config.Subjects ?? []) { subject };
        await foreach (var consumer in stream.ListConsumersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (consumer.Info.Config.FilterSubject is { Length: > 0 } filter)
            {
                wanted.Add(filter);
            }
        }

        var config = stream.Info.Config;
        config.Subjects = Captured(wanted);
        await jetStream.UpdateStreamAsync(config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The subjects a stream lists to capture <paramref name="wanted"/>: a stream's subjects may not overlap, so a pattern
    /// replaces the subjects it covers, and subjects that overlap without one covering the other give way to their whole first tokens.
    /// </summary>
    private static List<string> Captured(IEnumerable<string> wanted)
    {
        var distinct = wanted.Distinct(StringComparer.Ordinal).ToList();
        var captured = distinct.Where(s => !distinct.Any(other => other != s && Subjects.Covers(other, s))).ToList();
        return captured.Any(a => captured.Any(b => a != b && Subjects.Overlap(a, b)))
            ? [.. captured.Select(JetStreamNames.FirstToken).Distinct(StringComparer.Ordinal).SelectMany(token => new[] { token, token + ".>" })]
            : captured;
    }

    private async ValueTask<string?> LookUpAsync(string subject, Entry? stale, CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        string? stream;
        try
        {
            stream = await FindAsync(subject, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (stale is not null)
            {
                // The server cannot answer now (JetStream starting, reconnecting): the last answer is the best guess.
                return stale.Stream;
            }

            throw new TransportException($"Could not ask the NATS server whether a stream keeps messages on '{subject}': {e.Message}", e);
        }

        // An answer that raced with news of a stream change may be stale: use it, do not keep it.
        if (generation == Volatile.Read(ref _generation))
        {
            if (_bySubject.Count >= MaxEntries)
            {
                _bySubject.Clear();
            }

            _bySubject[subject] = new Entry(stream, time.GetTimestamp() + (long)(notCapturedTtl.TotalSeconds * time.TimestampFrequency), generation);
        }

        return stream;
    }

    private async ValueTask<string?> FindAsync(string subject, CancellationToken cancellationToken)
    {
        await foreach (var name in jetStream.ListStreamNamesAsync(subject, cancellationToken).ConfigureAwait(false))
        {
            return name;
        }

        return null;
    }

    private sealed record Entry(string? Stream, long ExpiresAt, int Generation);
}
