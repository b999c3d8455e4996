namespace ToDoList.Messaging.DeadLetters;

/// <summary>
/// Where the <see cref="DeadLetterStore"/> keeps dead letters. The library's default keeps them in memory
/// (<see cref="MemoryDeadLetterRepository"/>); an application keeps them in its database so that they outlive
/// the process and every replica sees the same list.
/// </summary>
public interface IDeadLetterRepository
{
    /// <summary>Keeps <paramref name="letter"/>; false when one with its id is kept already (a dead letter delivered again).</summary>
    ValueTask<bool> AddAsync(DeadLetter letter, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> letters, oldest first; only those of <paramref name="subject"/> (wildcards allowed) when given.</summary>
    ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subject, int limit, CancellationToken cancellationToken);

    ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Forgets the letter; true for the one caller that removed it, so that two replays at once publish it once.</summary>
    ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken);

    ValueTask<int> CountAsync(CancellationToken cancellationToken);
}
