using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ToDoList.Messaging;
using ToDoList.Messaging.DeadLetters;

namespace ToDoList.Data;

/// <summary>Keeps dead letters in the app's database (SQLite or PostgreSQL): they outlive a restart and every replica sees them all.</summary>
public sealed class DatabaseDeadLetters(IDbContextFactory<ToDoDbContext> factory) : IDeadLetterRepository
{
    public async ValueTask<bool> AddAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.DeadLetters.Add(ToRow(letter));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException e) when (ToDoDbContext.IsDuplicate(e))
        {
            return false;
        }
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subject, int limit, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = db.DeadLetters.AsNoTracking();
        if (subject is not null)
        {
            // The part before the first wildcard narrows it in SQL; the pattern itself is matched here.
            var literal = string.Join('.', subject.Split('.').TakeWhile(t => t is not ("*" or ">")));
            rows = literal == subject ? rows.Where(r => r.Subject == subject) : rows.Where(r => r.Subject.StartsWith(literal));
        }

        var found = await rows.OrderBy(r => r.Number).Take(subject is null ? limit : DeadLetterStore.MaxList).ToListAsync(cancellationToken);
        return found.Where(r => subject is null || Subjects.Matches(subject, r.Subject)).Take(limit).Select(ToLetter).ToList();
    }

    public async ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(r => r.LetterId == id, cancellationToken);
        return row is null ? null : ToLetter(row);
    }

    public async ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // One statement: of two callers at once, only one sees the row go.
        return await db.DeadLetters.Where(r => r.LetterId == id).ExecuteDeleteAsync(cancellationToken) == 1;
    }

    public async ValueTask<int> CountAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.DeadLetters.CountAsync(cancellationToken);
    }

    private static DeadLetterRow ToRow(DeadLetter letter) => new()
    {
        LetterId = letter.Id,
        Subject = ToDoDbContext.Storable(letter.Subject, ToDoDbContext.MaxSubjectLength)!,
        EventId = ToDoDbContext.Storable(letter.EventId, int.MaxValue),
        Error = ToDoDbContext.Storable(letter.Error, ToDoDbContext.MaxErrorLength)!,
        QueueGroup = ToDoDbContext.Storable(letter.QueueGroup, ToDoDbContext.MaxSubjectLength),
        Attempts = letter.Attempts,
        Time = letter.Time.ToUniversalTime(),
        Headers = JsonSerializer.Serialize(letter.Message.Headers.ToDictionary(h => h.Key, h => h.Value), DeadLetterRowJson.Default.DictionaryStringString),
        Data = letter.Message.Data.ToArray(),
    };

    private static DeadLetter ToLetter(DeadLetterRow row)
    {
        var headers = new MessageHeaders(JsonSerializer.Deserialize(row.Headers, DeadLetterRowJson.Default.DictionaryStringString) ?? []);
        return new DeadLetter(row.LetterId, row.Subject, row.EventId, row.Error, row.QueueGroup, row.Attempts, row.Time, new Message(Subjects.DeadLetterOf(row.Subject), row.Data, headers));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class DeadLetterRowJson : System.Text.Json.Serialization.JsonSerializerContext;
