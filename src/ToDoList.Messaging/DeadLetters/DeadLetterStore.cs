namespace ToDoList.Messaging.DeadLetters;

/// <summary>
/// Keeps dead letters (in its <see cref="IDeadLetterRepository"/>) so they can be listed, inspected, replayed to their
/// subject, or deleted: from a page in this process, or from anywhere over the queue (<see cref="DeadLetterAdmin"/>).
/// </summary>
public sealed class DeadLetterStore(MessageBus bus, IDeadLetterRepository repository)
{
    public const string QueueGroup = "deadletters";

    /// <summary>What the store's durable group follows: the dead letters of every subject.</summary>
    public const string Subject = Subjects.DeadLetterPrefix + ">";

    /// <summary>Most letters one list returns.</summary>
    public const int MaxList = 10_000;

    public ValueTask<int> CountAsync(CancellationToken cancellationToken = default) => repository.CountAsync(cancellationToken);

    /// <summary>Up to <paramref name="limit"/> letters, oldest first; only those of <paramref name="subject"/> (wildcards allowed) when given.</summary>
    public ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subject = null, int limit = MaxList, CancellationToken cancellationToken = default)
    {
        if (subject is not null)
        {
            Subjects.ValidateSubscribe(subject);
        }

        return repository.ListAsync(subject, Math.Clamp(limit, 1, MaxList), cancellationToken);
    }

    public ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken = default) => repository.GetAsync(id, cancellationToken);

    /// <summary>Publishes the message again on its original subject, as it first came, and forgets the dead letter.</summary>
    public async ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default)
    {
        var letter = await repository.GetAsync(id, cancellationToken).ConfigureAwait(false);

        // Taken out before publishing, so that two replays at once (two pages, two replicas) publish it once; put back if the publish fails.
        if (letter is null || !await repository.RemoveAsync(id, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            await bus.PublishAsync(letter.ToReplay(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await repository.AddAsync(letter, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return true;
    }

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => repository.RemoveAsync(id, cancellationToken);

    /// <summary>Replays every letter (of <paramref name="subject"/> when given); returns how many went.</summary>
    public ValueTask<int> ReplayAllAsync(string? subject = null, CancellationToken cancellationToken = default) =>
        ForEachAsync(subject, ReplayAsync, cancellationToken);

    /// <summary>Deletes every letter (of <paramref name="subject"/> when given); returns how many went.</summary>
    public ValueTask<int> DeleteAllAsync(string? subject = null, CancellationToken cancellationToken = default) =>
        ForEachAsync(subject, DeleteAsync, cancellationToken);

    /// <summary>Keeps a message that arrived on <c>deadletter.&gt;</c>; a dead letter delivered again is kept once.</summary>
    internal async ValueTask AddAsync(Message message, CancellationToken cancellationToken = default) =>
        await repository.AddAsync(DeadLetter.From(message), cancellationToken).ConfigureAwait(false);

    private async ValueTask<int> ForEachAsync(string? subject, Func<string, CancellationToken, ValueTask<bool>> action, CancellationToken cancellationToken)
    {
        var done = 0;
        while (true)
        {
            var batch = await ListAsync(subject, 1000, cancellationToken).ConfigureAwait(false);
            var before = done;
            foreach (var letter in batch)
            {
                done += await action(letter.Id, cancellationToken).ConfigureAwait(false) ? 1 : 0;
            }

            // A batch where nothing went (taken by another replica meanwhile) or the last one: stop rather than spin.
            if (batch.Count < 1000 || done == before)
            {
                return done;
            }
        }
    }
}
