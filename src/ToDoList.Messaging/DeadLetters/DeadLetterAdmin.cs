using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ToDoList.Messaging.DeadLetters;

/// <summary>
/// The dead letters over the queue, for the CLI and any other process: a request on <c>admin.deadletters.&lt;verb&gt;</c>
/// (<c>list</c>, <c>show</c>, <c>replay</c>, <c>delete</c>) is answered by one process that keeps them (queue group
/// <see cref="QueueGroup"/>). Separate subjects per verb let broker permissions allow reading without replaying.
/// </summary>
public sealed class DeadLetterAdmin(MessageBus bus)
{
    public const string SubjectPrefix = "admin.deadletters.";

    /// <summary>What the keeper subscribes to.</summary>
    public const string Subject = SubjectPrefix + "*";

    public const string QueueGroup = "deadletters-admin";

    public const string List = "list";
    public const string Show = "show";
    public const string Replay = "replay";
    public const string Delete = "delete";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<DeadLetterSummary>> ListAsync(string? subject = null, int? limit = null, CancellationToken cancellationToken = default) =>
        (await AskAsync(List, new DeadLetterRequest(Subject: subject, Limit: limit), cancellationToken).ConfigureAwait(false)).Letters ?? [];

    /// <summary>The letter with its headers and data, or null when none has that id.</summary>
    public async Task<DeadLetterDetail?> ShowAsync(string id, CancellationToken cancellationToken = default) =>
        (await AskAsync(Show, new DeadLetterRequest(Id: id), cancellationToken).ConfigureAwait(false)).Letter;

    /// <summary>Replays the letter <paramref name="id"/>, or every one (of <paramref name="subject"/>) when <paramref name="id"/> is null; how many went.</summary>
    public async Task<int> ReplayAsync(string? id, string? subject = null, CancellationToken cancellationToken = default) =>
        (await AskAsync(Replay, new DeadLetterRequest(id, subject, All: id is null), cancellationToken).ConfigureAwait(false)).Count ?? 0;

    /// <summary>Deletes the letter <paramref name="id"/>, or every one (of <paramref name="subject"/>) when <paramref name="id"/> is null; how many went.</summary>
    public async Task<int> DeleteAsync(string? id, string? subject = null, CancellationToken cancellationToken = default) =>
        (await AskAsync(Delete, new DeadLetterRequest(id, subject, All: id is null), cancellationToken).ConfigureAwait(false)).Count ?? 0;

    /// <summary>Answers one request; never throws, so a bad request gets its error back instead of becoming a dead letter itself.</summary>
    public static async ValueTask AnswerAsync(DeadLetterStore store, MessageContext context, CancellationToken cancellationToken)
    {
        DeadLetterReply reply;
        try
        {
            var verb = context.Message.Subject[SubjectPrefix.Length..];
            var request = context.Message.Data.IsEmpty
                ? new DeadLetterRequest()
                : JsonSerializer.Deserialize(context.Message.Data.Span, DeadLetterJson.Default.DeadLetterRequest) ?? new DeadLetterRequest();
            reply = verb switch
            {
                List => new DeadLetterReply(Letters: (await store.ListAsync(request.Subject, request.Limit ?? DeadLetterStore.MaxList, cancellationToken).ConfigureAwait(false))
                    .Select(DeadLetterSummary.Of).ToList()),
                Show => new DeadLetterReply(Letter: await store.GetAsync(Required(request.Id), cancellationToken).ConfigureAwait(false) is { } letter ? DeadLetterDetail.Of(letter) : null),
                Replay => new DeadLetterReply(Count: request.All
                    ? await store.ReplayAllAsync(request.Subject, cancellationToken).ConfigureAwait(false)
                    : await store.ReplayAsync(Required(request.Id), cancellationToken).ConfigureAwait(false) ? 1 : 0),
                Delete => new DeadLetterReply(Count: request.All
                    ? await store.DeleteAllAsync(request.Subject, cancellationToken).ConfigureAwait(false)
                    : await store.DeleteAsync(Required(request.Id), cancellationToken).ConfigureAwait(false) ? 1 : 0),
                _ => new DeadLetterReply(Error: $"Unknown verb '{verb}': use {List}, {Show}, {Replay} or {Delete}."),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reply = new DeadLetterReply(Error: e.Message);
        }

        await context.ReplyRawAsync(JsonSerializer.SerializeToUtf8Bytes(reply, DeadLetterJson.Default.DeadLetterReply), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string Required(string? id) =>
        string.IsNullOrWhiteSpace(id) ? throw new ArgumentException("Name a dead letter by its id, or ask for all of them.") : id;

    private async Task<DeadLetterReply> AskAsync(string verb, DeadLetterRequest request, CancellationToken cancellationToken)
    {
        var data = JsonSerializer.SerializeToUtf8Bytes(request, DeadLetterJson.Default.DeadLetterRequest);
        var answer = await bus.RequestAsync(new Message(SubjectPrefix + verb, data), Timeout, cancellationToken).ConfigureAwait(false);
        var reply = JsonSerializer.Deserialize(answer.Data.Span, DeadLetterJson.Default.DeadLetterReply)
            ?? throw new MessagingException($"The dead letter keeper answered {verb} with nothing.");
        return reply.Error is { } error ? throw new MessagingException(error) : reply;
    }
}

/// <summary>What a request on <c>admin.deadletters.&lt;verb&gt;</c> carries.</summary>
public sealed record DeadLetterRequest(string? Id = null, string? Subject = null, bool All = false, int? Limit = null);

/// <summary>The answer: letters for <c>list</c>, one letter for <c>show</c>, a count for <c>replay</c> and <c>delete</c>, or an error.</summary>
public sealed record DeadLetterReply(IReadOnlyList<DeadLetterSummary>? Letters = null, DeadLetterDetail? Letter = null, int? Count = null, string? Error = null);

/// <summary>A dead letter in a list.</summary>
public sealed record DeadLetterSummary(string Id, string Subject, string? EventId, string Error, string? QueueGroup, int Attempts, DateTimeOffset Time, int Size, string Preview)
{
    public static DeadLetterSummary Of(DeadLetter letter) =>
        new(letter.Id, letter.Subject, letter.EventId, letter.Error, letter.QueueGroup, letter.Attempts, letter.Time, letter.Message.Data.Length, letter.DataPreview);
}

/// <summary>One dead letter whole: its headers, and its data as text (UTF-8) and as base64 (exact bytes).</summary>
public sealed record DeadLetterDetail(DeadLetterSummary Letter, IReadOnlyDictionary<string, string> Headers, string Data, string DataBase64)
{
    public static DeadLetterDetail Of(DeadLetter letter) => new(
        DeadLetterSummary.Of(letter),
        letter.Message.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase),
        Encoding.UTF8.GetString(letter.Message.Data.Span),
        Convert.ToBase64String(letter.Message.Data.Span));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DeadLetterRequest))]
[JsonSerializable(typeof(DeadLetterReply))]
internal sealed partial class DeadLetterJson : JsonSerializerContext;
