using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ToDoList.Items;
using ToDoList.Messaging.DeadLetters;

namespace ToDoList.Data;

/// <summary>
/// The app's database, the same model on every provider. Migrations are provider-specific, so each
/// provider has a subclass with its own set (<see cref="SqliteToDoDbContext"/>, <see cref="PostgresToDoDbContext"/>);
/// the rest of the app asks only for <see cref="ToDoDbContext"/>.
/// </summary>
public abstract class ToDoDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>The longest event id (CloudEvents <c>id</c>) a row holds; a longer one is a poison message.</summary>
    public const int MaxEventIdLength = 256;

    /// <summary>The longest CloudEvents <c>source</c> an audit entry keeps; a longer one is cut.</summary>
    public const int MaxSourceLength = 256;

    public const int MaxSubjectLength = 256;

    /// <summary>The longest error a dead letter keeps; the bus cuts its own at 1,000.</summary>
    public const int MaxErrorLength = 2000;

    // SQLITE_CONSTRAINT_UNIQUE: SQLITE_CONSTRAINT (19) | 8 << 8.
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintUnique = 2067;

    public DbSet<TodoItem> Items => Set<TodoItem>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<DeadLetterRow> DeadLetters => Set<DeadLetterRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TodoItem>(item =>
        {
            item.ToTable("ToDoItems");
            item.Property(i => i.Item).HasMaxLength(NewItemRules.MaxLength);
            item.Property(i => i.EventId).HasMaxLength(MaxEventIdLength);
            item.HasIndex(i => i.EventId).IsUnique();
        });

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.Property(e => e.EventId).HasMaxLength(MaxEventIdLength);
            entry.Property(e => e.Subject).HasMaxLength(MaxSubjectLength);
            entry.Property(e => e.Item).HasMaxLength(NewItemRules.MaxLength);
            entry.Property(e => e.Source).HasMaxLength(MaxSourceLength);
            entry.HasIndex(e => e.EventId).IsUnique();
        });

        modelBuilder.Entity<DeadLetterRow>(letter =>
        {
            letter.HasKey(l => l.Number);
            letter.Property(l => l.LetterId).HasMaxLength(DeadLetter.MaxIdLength);
            letter.HasIndex(l => l.LetterId).IsUnique();
            letter.Property(l => l.Subject).HasMaxLength(MaxSubjectLength);
            letter.HasIndex(l => l.Subject);
            letter.Property(l => l.Error).HasMaxLength(MaxErrorLength);
            letter.Property(l => l.QueueGroup).HasMaxLength(MaxSubjectLength);
        });
    }

    /// <summary>
    /// Stores, in one statement, the items whose event id no row holds yet, and answers those it stored (their
    /// <see cref="TodoItem.Id"/> set). An event id stored already (a redelivery, another member's copy a moment ago) is
    /// skipped by the database itself: no duplicate error, no race between members. Event ids must differ within a call.
    /// </summary>
    public Task<List<TodoItem>> StoreNewItemsAsync(IReadOnlyList<TodoItem> items, CancellationToken cancellationToken) =>
        StoreNewAsync(items, i => i.EventId, (i, id) => i.Id = id, InsertNewItems, cancellationToken);

    /// <summary>As <see cref="StoreNewItemsAsync"/>, for audit entries: those of events not audited yet, in one statement.</summary>
    public Task<List<AuditEntry>> StoreNewAuditEntriesAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken) =>
        StoreNewAsync(entries, e => e.EventId, (e, id) => e.Id = id, InsertNewAuditEntries, cancellationToken);

    /// <summary>
    /// <c>INSERT … ON CONFLICT ("EventId") DO NOTHING RETURNING "Id", "EventId"</c> for <paramref name="items"/>, in the
    /// provider's fastest form: EF Core's change tracking cost more than the database's work for a batch.
    /// </summary>
    protected abstract (string Sql, DbParameter[] Parameters) InsertNewItems(IReadOnlyList<TodoItem> items);

    /// <summary>The same for audit entries.</summary>
    protected abstract (string Sql, DbParameter[] Parameters) InsertNewAuditEntries(IReadOnlyList<AuditEntry> entries);

    private async Task<List<T>> StoreNewAsync<T>(
        IReadOnlyList<T> rows, Func<T, string> eventIdOf, Action<T, int> setId, Func<IReadOnlyList<T>, (string Sql, DbParameter[] Parameters)> insert, CancellationToken cancellationToken)
    {
        var stored = new List<T>(rows.Count);
        if (rows.Count == 0)
        {
            return stored;
        }

        var byEventId = rows.ToDictionary(eventIdOf);
        // Through EF Core all the same (its logs, its retries' errors, the database spans of tracing), as raw SQL.
        var (sql, parameters) = insert(rows);
        foreach (var row in await Database.SqlQueryRaw<StoredRow>(sql, parameters).ToListAsync(cancellationToken))
        {
            var stock = byEventId[row.EventId];
            setId(stock, row.Id);
            stored.Add(stock);
        }

        return stored;
    }

    /// <summary>What an insert returns of each row it stored.</summary>
    protected sealed class StoredRow
    {
        public int Id { get; init; }

        public required string EventId { get; init; }
    }

    /// <summary>True when saving failed because a unique index (the event id's) already holds the value: told by the database's error code, not its wording.</summary>
    public static bool IsDuplicate(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException e => e.SqliteErrorCode == SqliteConstraint && e.SqliteExtendedErrorCode == SqliteConstraintUnique,
        PostgresException e => e.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>Null when <paramref name="eventId"/> can be stored, else why not; such an event can never be handled.</summary>
    public static string? CheckEventId(string eventId) => eventId switch
    {
        { Length: > MaxEventIdLength } => $"The event id is {eventId.Length} characters; at most {MaxEventIdLength} can be stored.",
        _ when eventId.Contains('\0') => "The event id contains a NUL character, which cannot be stored.",
        _ => null,
    };

    /// <summary>
    /// <paramref name="text"/> made storable in a column of <paramref name="maxLength"/>: cut without splitting a surrogate
    /// pair (PostgreSQL refuses half a pair) and with NUL, which PostgreSQL text cannot hold, replaced.
    /// </summary>
    public static string? Storable(string? text, int maxLength)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Length > maxLength)
        {
            text = text[..(char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength)];
        }

        return text.Contains('\0') ? text.Replace('\0', '\uFFFD') : text;
    }
}
