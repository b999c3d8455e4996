using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;

namespace ToDoList.Api;

/// <summary>The REST API of SPEC §5. Writes go to the queue; reads come from the database.</summary>
public static class TodoApi
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxWaitSeconds = 60;
    public const int MaxPageSize = 1000;

    /// <summary>A client's own id for the item it posts (IETF draft httpapi-idempotency-key-header); retrying with it never adds a second item.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public const int MaxIdempotencyKeyLength = 128;

    private static ReadOnlySpan<byte> Utf8ByteOrderMark => [0xEF, 0xBB, 0xBF];

    public static IEndpointRouteBuilder MapTodoApi(this IEndpointRouteBuilder endpoints)
    {
        var todo = endpoints.MapGroup("/todo").WithTags("todo").RequireRateLimiting(ApiRateLimit.Policy);
        todo.MapPost("/", AddItem)
            .WithSummary("Add an item: publishes events.todo.newitem")
            .WithDescription("Answers 202 once the event is with the queue. With `Prefer: wait=N` it waits up to N seconds for the save handler and answers 201 with the stored item. With `Idempotency-Key: K` the key is the event id: posting again with the same key (after a timeout or a 503) never stores a second item.")
            .Accepts<NewItemEvent>("application/json")
            .Produces<TodoItemResponse>(StatusCodes.Status201Created)
            .Produces<AcceptedResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        todo.MapGet("/", ListItems).WithSummary("The stored items, oldest first; ?limit=N&after=ID pages them");
        todo.MapGet("/{id:int}", GetItem).WithSummary("One stored item");
        todo.MapPost("/{id:int}/complete", (int id, IDbContextFactory<ToDoDbContext> db, MessageBus bus, CancellationToken ct) =>
                SendCommand(id, TodoSubjects.Complete, new CompleteItemCommand(id), db, bus, ct))
            .WithSummary("Mark an item done: publishes commands.todo.complete");
        todo.MapDelete("/{id:int}", (int id, IDbContextFactory<ToDoDbContext> db, MessageBus bus, CancellationToken ct) =>
                SendCommand(id, TodoSubjects.Delete, new DeleteItemCommand(id), db, bus, ct))
            .WithSummary("Delete an item: publishes commands.todo.delete");
        return endpoints;
    }

    private static async Task<IResult> AddItem(HttpRequest request, MessageBus bus, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the item as JSON with 'Content-Type: application/json'.");
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return TooLarge();
        }

        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return TooLarge();
        }

        NewItemEvent? newItem;
        try
        {
            // A byte order mark is allowed before JSON (RFC 8259 §8.1), as ASP.NET Core's own body binding allows it.
            newItem = JsonSerializer.Deserialize(body.AsSpan().StartsWith(Utf8ByteOrderMark) ? body.AsSpan(Utf8ByteOrderMark.Length) : body, TodoJson.Default.NewItemEvent);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"The body is not a JSON object like {{\"item\":\"text\"}}: {e.Message}");
        }

        if (NewItemRules.Check(newItem?.Item) is { } problem)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["item"] = [problem] });
        }

        var keys = request.Headers[IdempotencyKeyHeader];
        var key = keys.ToString();
        if (keys.Count > 0 && CheckIdempotencyKey(keys) is { } badKey)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad idempotency key", badKey);
        }

        // The key becomes the event id, on which the save handler is idempotent: a retry with the same key stores the item once.
        var options = key.Length > 0 ? new PublishOptions { Id = key } : null;
        var message = bus.CreateMessage(TodoSubjects.NewItem, newItem! with { Item = newItem.Item!.Trim() }, options);
        var eventId = message.Id!;
        try
        {
            if (PreferredWait(request) is { } wait)
            {
                request.HttpContext.Response.Headers["Preference-Applied"] = $"wait={wait.TotalSeconds:0}";
                try
                {
                    var reply = await bus.RequestAsync(message, wait, cancellationToken);
                    var saved = JsonSerializer.Deserialize(reply.Data.Span, TodoJson.Default.ItemSavedEvent)!;
                    return TypedResults.Created($"/todo/{saved.Id}", TodoItemResponse.From(saved));
                }
                catch (Exception e) when (e is RequestTimeoutException or NoRespondersException)
                {
                    // Published and kept by the queue, just not saved yet.
                    return Accepted(eventId);
                }
            }

            await bus.PublishAsync(message, cancellationToken);
            return Accepted(eventId);
        }
        catch (MessagingException)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "Message queue unavailable", "The item was not accepted; try again shortly.");
        }
    }

    private static async Task<Ok<List<TodoItemResponse>>> ListItems(int? limit, int? after, IDbContextFactory<ToDoDbContext> factory, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var query = db.Items.AsNoTracking().Where(i => i.Id > (after ?? 0)).OrderBy(i => i.Id).AsQueryable();
        if (limit is { } n)
        {
            query = query.Take(Math.Clamp(n, 0, MaxPageSize));
        }

        var items = await query.Select(i => new TodoItemResponse(i.Id, i.Item, i.DateAdded, i.Done)).ToListAsync(cancellationToken);
        return TypedResults.Ok(items);
    }

    private static async Task<Results<Ok<TodoItemResponse>, NotFound>> GetItem(int id, IDbContextFactory<ToDoDbContext> factory, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var item = await db.Items.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        return item is null ? TypedResults.NotFound() : TypedResults.Ok(TodoItemResponse.From(item));
    }

    private static async Task<IResult> SendCommand<T>(int id, string subject, T command, IDbContextFactory<ToDoDbContext> factory, MessageBus bus, CancellationToken cancellationToken)
    {
        await using (var db = await factory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.Items.AnyAsync(i => i.Id == id, cancellationToken))
            {
                return TypedResults.NotFound();
            }
        }

        try
        {
            return Accepted(await bus.PublishAsync(subject, command, cancellationToken: cancellationToken));
        }
        catch (MessagingException)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "Message queue unavailable", "The command was not accepted; try again shortly.");
        }
    }

    /// <summary>Printable ASCII without spaces, as a message header (and the event id it becomes) can carry it; null when valid.</summary>
    private static string? CheckIdempotencyKey(Microsoft.Extensions.Primitives.StringValues keys) =>
        keys is [{ Length: > 0 and <= MaxIdempotencyKeyLength } key] && key.All(c => c is > ' ' and < (char)0x7F)
            ? null
            : $"The {IdempotencyKeyHeader} header must be one value of 1 to {MaxIdempotencyKeyLength} printable ASCII characters without spaces, such as a UUID.";

    /// <summary>RFC 7240 <c>Prefer: wait=N</c>, capped; null when absent or not a number of seconds.</summary>
    private static TimeSpan? PreferredWait(HttpRequest request)
    {
        foreach (var value in request.Headers.GetCommaSeparatedValues("Prefer"))
        {
            var parts = value.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0].Equals("wait", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(parts[1], out var seconds) && seconds > 0)
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, MaxWaitSeconds));
            }
        }

        return null;
    }

    /// <summary>The body, or null when it is longer than <see cref="MaxBodyBytes"/> (chunked bodies have no Content-Length to check first).</summary>
    /// <summary>The whole body, or null past <see cref="MaxBodyBytes"/>: read from the server's own buffers, copied once.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > MaxBodyBytes)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            // Nothing consumed, everything seen: the next read returns once more has arrived.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static IResult Accepted(string eventId) =>
        TypedResults.Accepted((string?)null, new AcceptedResponse(eventId));

    private static IResult TooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"The body must be at most {MaxBodyBytes / 1024} KiB.");

    private static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
