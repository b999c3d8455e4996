using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace ToDoList.Messaging.Embedded;

/// <summary>
/// The queue file of <c>embedded://</c>: its durable groups and every message they have not acknowledged, in
/// SQLite. One writer loop takes all pending changes (publishes, deliveries, acknowledgements) and commits them in
/// one transaction, then completes the publishes that waited for it: group commit. A message published and
/// acknowledged within one batch is never written at all.
/// </summary>
internal sealed class DurableStore : IAsyncDisposable
{
    /// <summary>The file's layout; a file of a newer one is refused rather than misread.</summary>
    private const int SchemaVersion = 1;

    /// <summary>Changes committed in one transaction at most: keeps a publish's wait short under a flood.</summary>
    private const int MaxBatch = 8192;

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteNotADatabase = 26;

    private readonly SqliteConnection _connection;
    private readonly Channel<Change> _changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Statement _insertGroup;
    private readonly Statement _insert;
    private readonly Statement _updateAttempts;
    private readonly Statement _delete;
    private readonly Task _writer;
    private long _lastMessageId;
    private int _lastGroupId;

    private DurableStore(string path, SqliteConnection connection, List<StoredGroup> groups, long lastMessageId)
    {
        FilePath = path;
        _connection = connection;
        Groups = groups;
        _lastMessageId = lastMessageId;
        _lastGroupId = groups.Count == 0 ? 0 : groups.Max(g => g.Id);
        _insertGroup = new Statement(connection, "INSERT OR IGNORE INTO groups (id, name, subject) VALUES ($id, $name, $subject)", "$id", "$name", "$subject");
        _insert = new Statement(connection, "INSERT INTO messages (id, grp, attempts, subject, reply_to, headers, data) VALUES ($id, $grp, $attempts, $subject, $reply_to, $headers, $data)",
            "$id", "$grp", "$attempts", "$subject", "$reply_to", "$headers", "$data");
        _updateAttempts = new Statement(connection, "UPDATE messages SET attempts = $attempts WHERE id = $id", "$id", "$attempts");
        _delete = new Statement(connection, "DELETE FROM messages WHERE id = $id", "$id");
        _writer = Task.Run(WriteAsync);
    }

    public string FilePath { get; }

    /// <summary>The groups the file held when it was opened, each with its unacknowledged messages in publish order.</summary>
    public IReadOnlyList<StoredGroup> Groups { get; }

    /// <summary>
    /// Opens (or makes) the file and takes it for this process alone. Throws <see cref="TransportException"/> with one
    /// line saying what is wrong: another process holds it, it is not a queue file, it cannot be written.
    /// </summary>
    public static DurableStore Open(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        SqliteConnection? connection = null;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath)!);
            connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = fullPath,
                Mode = SqliteOpenMode.ReadWriteCreate,
                // Closing must release the file (and its lock) at once: a restarted transport opens it again.
                Pooling = false,
                // Waits at most this long for a lock another process holds, then refuses.
                DefaultTimeout = 1,
            }.ToString());
            connection.Open();

            // Exclusive: the first write takes the file's lock until the connection closes, so a second process on it is
            // refused instead of interleaving with us; WAL then needs no shared-memory index either.
            Execute(connection, "PRAGMA locking_mode=EXCLUSIVE");
            var journal = Scalar(connection, "PRAGMA journal_mode=WAL");
            if (!"wal".Equals(journal as string, StringComparison.OrdinalIgnoreCase))
            {
                throw new TransportException($"The queue file {fullPath} cannot use write-ahead logging (journal mode {journal}): put it on a local disk.");
            }

            // NORMAL in WAL mode: a commit is written to the log (the OS has it) but not fsynced, so a killed process loses
            // nothing committed; only a power cut or kernel crash can lose the last commits (never corrupt the file).
            // FULL would fsync every commit: milliseconds each, for a guarantee the all-in-one does not promise.
            Execute(connection, "PRAGMA synchronous=NORMAL");

            List<StoredGroup> groups;
            long lastMessageId;
            using (var transaction = connection.BeginTransaction())
            {
                PrepareSchema(connection, fullPath);
                (groups, lastMessageId) = Load(connection);
                transaction.Commit();
            }

            return new DurableStore(fullPath, connection, groups, lastMessageId);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteBusy or SqliteLocked)
        {
            connection?.Dispose();
            throw new TransportException($"The queue file {fullPath} is in use by another process: run one all-in-one todo per folder, or give this one its own file (MessageQueue__Url=embedded:///path/to/queue.db).", e);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteNotADatabase)
        {
            connection?.Dispose();
            throw new TransportException($"The queue file {fullPath} is not a SQLite file: move it away or name another file.", e);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            throw new TransportException($"The queue file {fullPath} cannot be opened: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    public int NextGroupId() => Interlocked.Increment(ref _lastGroupId);

    public long NextMessageId() => Interlocked.Increment(ref _lastMessageId);

    /// <summary>Keeps a new group; the task completes once it is committed.</summary>
    public Task AddGroup(StoredGroup group)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Change(ChangeKind.Group, group.Id, 0, group, committed));
        return committed.Task;
    }

    /// <summary>Keeps a message for a group; <paramref name="committed"/> (if any) completes once this and every change before it is committed.</summary>
    public void Add(long id, int group, Message message, TaskCompletionSource? committed) =>
        Enqueue(new Change(ChangeKind.Insert, id, group, message, committed));

    /// <summary>Counts a delivery, so that a restart goes on counting (a message that crashes its handler does not loop for ever).</summary>
    public void Delivered(long id, int attempt) => _changes.Writer.TryWrite(new Change(ChangeKind.Attempt, id, attempt, null, null));

    /// <summary>Forgets an acknowledged message. Not awaited: an acknowledgement lost in a crash only means one more delivery.</summary>
    public void Acknowledged(long id) => _changes.Writer.TryWrite(new Change(ChangeKind.Delete, id, 0, null, null));

    /// <summary>Writes what is pending, then closes the file and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        _changes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _insertGroup.Dispose();
        _insert.Dispose();
        _updateAttempts.Dispose();
        _delete.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private void Enqueue(Change change)
    {
        if (!_changes.Writer.TryWrite(change))
        {
            throw new ObjectDisposedException(nameof(EmbeddedTransport));
        }
    }

    private async Task WriteAsync()
    {
        var reader = _changes.Reader;
        var rows = new Dictionary<long, Row>();
        var groups = new List<StoredGroup>();
        var waiting = new List<TaskCompletionSource>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            for (var taken = 0; taken < MaxBatch && reader.TryRead(out var change); taken++)
            {
                Fold(change, rows, groups);
                if (change.Committed is { } committed)
                {
                    waiting.Add(committed);
                }
            }

            try
            {
                Commit(rows, groups);
                foreach (var committed in waiting)
                {
                    committed.TrySetResult();
                }
            }
            catch (Exception e)
            {
                // Whatever failed, the publishers hear it: a writer that died silently would leave them waiting for ever.
                var error = new TransportException($"The queue file {FilePath} could not be written: {e.Message.ReplaceLineEndings(" ")}", e);
                foreach (var committed in waiting)
                {
                    committed.TrySetException(error);
                }
            }
            finally
            {
                rows.Clear();
                groups.Clear();
                waiting.Clear();
            }
        }
    }

    /// <summary>Merges one change into the batch: what a row ends up as is all that is written.</summary>
    private static void Fold(in Change change, Dictionary<long, Row> rows, List<StoredGroup> groups)
    {
        if (change.Kind == ChangeKind.Group)
        {
            groups.Add((StoredGroup)change.Payload!);
            return;
        }

        ref var row = ref CollectionsMarshal.GetValueRefOrAddDefault(rows, change.Id, out _);
        switch (change.Kind)
        {
            case ChangeKind.Insert:
                row.Inserted = (Message)change.Payload!;
                row.Group = change.Value;
                break;
            case ChangeKind.Attempt:
                row.Attempts = Math.Max(row.Attempts, change.Value);
                row.AttemptsChanged = true;
                break;
            case ChangeKind.Delete:
                row.Deleted = true;
                break;
        }
    }

    private void Commit(Dictionary<long, Row> rows, List<StoredGroup> groups)
    {
        if (rows.Count == 0 && groups.Count == 0)
        {
            return;
        }

        using var transaction = _connection.BeginTransaction();
        _insertGroup.Use(transaction);
        _insert.Use(transaction);
        _updateAttempts.Use(transaction);
        _delete.Use(transaction);
        foreach (var group in groups)
        {
            _insertGroup.Run(group.Id, group.Name, group.Subject);
        }

        foreach (var (id, row) in rows)
        {
            if (row.Inserted is { } message)
            {
                if (!row.Deleted)
                {
                    _insert.Run(id, row.Group, row.Attempts, message.Subject, (object?)message.ReplyTo ?? DBNull.Value, (object?)HeaderBlob.Encode(message) ?? DBNull.Value, Bytes(message.Data));
                }
            }
            else if (row.Deleted)
            {
                _delete.Run(id);
            }
            else if (row.AttemptsChanged)
            {
                _updateAttempts.Run(id, row.Attempts);
            }
        }

        transaction.Commit();
    }

    private static void PrepareSchema(SqliteConnection connection, string path)
    {
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new TransportException($"The queue file {path} was made by a newer version (layout {version}, this one reads {SchemaVersion}): run that version, or move the file away.");
        }

        Execute(connection, """
            CREATE TABLE IF NOT EXISTS groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, subject TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, attempts INTEGER NOT NULL, subject TEXT NOT NULL, reply_to TEXT, headers BLOB, data BLOB);
            """);
        Execute(connection, $"PRAGMA user_version={SchemaVersion}");
    }

    private static (List<StoredGroup> Groups, long LastMessageId) Load(SqliteConnection connection)
    {
        var groups = new Dictionary<int, StoredGroup>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, name, subject FROM groups ORDER BY id";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var group = new StoredGroup(reader.GetInt32(0), reader.GetString(1), reader.GetString(2));
                groups.Add(group.Id, group);
            }
        }

        var lastMessageId = 0L;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, grp, attempts, subject, reply_to, headers, data FROM messages ORDER BY id";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                lastMessageId = Math.Max(lastMessageId, id);
                if (groups.TryGetValue(reader.GetInt32(1), out var group))
                {
                    var message = new Message(
                        reader.GetString(3),
                        reader.IsDBNull(6) ? ReadOnlyMemory<byte>.Empty : reader.GetFieldValue<byte[]>(6),
                        HeaderBlob.Decode(reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5)),
                        reader.IsDBNull(4) ? null : reader.GetString(4));
                    group.Messages.Add(new StoredMessage(id, reader.GetInt32(2), message));
                }
            }
        }

        return ([.. groups.Values], lastMessageId);
    }

    /// <summary>The payload's own array when it is exactly that, else a copy: SQLite binds whole arrays.</summary>
    private static byte[] Bytes(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : data.ToArray();

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private enum ChangeKind
    {
        Group,
        Insert,
        Attempt,
        Delete,
    }

    /// <summary>One change waiting for the writer.</summary>
    /// <param name="Kind">What it does.</param>
    /// <param name="Id">The message's id (the group's, for a new group).</param>
    /// <param name="Value">The group's id for an insert, the attempt for a delivery.</param>
    /// <param name="Payload">The message of an insert, the <see cref="StoredGroup"/> of a new group.</param>
    /// <param name="Committed">Completed once the change is committed.</param>
    private readonly record struct Change(ChangeKind Kind, long Id, int Value, object? Payload, TaskCompletionSource? Committed);

    /// <summary>What one batch does to one message row.</summary>
    private struct Row
    {
        public Message? Inserted;
        public int Group;
        public int Attempts;
        public bool AttemptsChanged;
        public bool Deleted;
    }

    /// <summary>A statement prepared once and run with new values many times.</summary>
    private sealed class Statement : IDisposable
    {
        private readonly SqliteCommand _command;
        private readonly SqliteParameter[] _parameters;

        public Statement(SqliteConnection connection, string sql, params string[] names)
        {
            _command = connection.CreateCommand();
            _command.CommandText = sql;
            _parameters = names.Select(name => _command.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        }

        public void Use(SqliteTransaction transaction) => _command.Transaction = transaction;

        public void Run(params object[] values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                _parameters[i].Value = values[i];
            }

            _command.ExecuteNonQuery();
        }

        public void Dispose() => _command.Dispose();
    }
}

/// <summary>A durable group as the queue file keeps it.</summary>
internal sealed record StoredGroup(int Id, string Name, string Subject)
{
    /// <summary>Its unacknowledged messages when the file was opened, in publish order.</summary>
    public List<StoredMessage> Messages { get; } = [];
}

/// <summary>An unacknowledged message as the queue file keeps it.</summary>
/// <param name="Id">Its row, unique in the file.</param>
/// <param name="Attempts">Deliveries so far: the next one is attempt <c>Attempts + 1</c>.</param>
/// <param name="Message">The message as published.</param>
internal readonly record struct StoredMessage(long Id, int Attempts, Message Message);
