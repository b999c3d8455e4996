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
        if (!jetStreamAvailable || subject.StartsWith("_INBOX.", StringComparison.Ordinal))
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

    /// <summary>Finds the stream that captures a durable subscription's subject, or creates ours (limits retention, file storage).</summary>
    public async Task<string> EnsureStreamAsync(string subject, CancellationToken cancellationToken)
    {
        var (name, captures) = JetStreamNames.StreamFor(subject);
        for (var attempt = 1; ; attempt++)
        {
            if (await FindAsync(subject, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                return existing;
            }

            try
            {
                await jetStream.CreateStreamAsync(
                    new StreamConfig(name, captures)
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
            catch (NatsJSApiException e) when (e.Error.ErrCode == NameInUse && attempt < 3)
            {
                // A stream of that name captures other subjects (a first token differing only in case): ours join them.
                var stream = await jetStream.GetStreamAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
                var config = stream.Info.Config;
                config.Subjects = [.. (config.Subjects ?? []).Union(captures)];
                await jetStream.UpdateStreamAsync(config, cancellationToken).ConfigureAwait(false);
                Forget();
                return name;
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == SubjectsOverlap && attempt < 3)
            {
                // Another stream that captures some of these subjects appeared meanwhile: look again.
            }
        }
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
