using ToDoList.Api;

namespace ToDoList.Tests;

/// <summary><c>Idempotency-Key</c> on <c>POST /todo</c>: a client that retries after a timeout or a 503 never adds an item twice.</summary>
public sealed class IdempotencyKeyTests(TodoAppFixture app) : IClassFixture<TodoAppFixture>
{
    [Fact]
    public async Task Posting_twice_with_the_same_key_stores_the_item_once_under_that_event_id()
    {
        var text = TodoHttp.UniqueText("keyed");
        var key = Guid.NewGuid().ToString();

        var first = await PostAsync(text, key);
        var second = await PostAsync(text, key);

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        Assert.Equal(key, first.Body.GetProperty("eventId").GetString());
        Assert.Equal(key, second.Body.GetProperty("eventId").GetString());
        await app.Client.WaitForItemAsync(text);

        // A third post, waiting for the save, answers the item stored by the first: there is still only one.
        var waited = await PostAsync(text, key, prefer: "wait=5");
        Assert.Equal(HttpStatusCode.Created, waited.Status);
        Assert.Single(await app.Client.GetItemsAsync(), i => i.Item == text);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("naïve")]
    [InlineData("tab\tinside")]
    public async Task A_key_that_cannot_be_an_event_id_answers_400_problem_details(string key)
    {
        using var request = ItemRequest(TodoHttp.UniqueText("bad key"));
        request.Headers.TryAddWithoutValidation(TodoApi.IdempotencyKeyHeader, key);

        // Sent as UTF-8 bytes, as a careless client would; HttpClient's default refuses non-ASCII headers.
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = app.Address };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_key_longer_than_128_characters_answers_400_problem_details()
    {
        using var request = ItemRequest(TodoHttp.UniqueText("long key"));
        request.Headers.TryAddWithoutValidation(TodoApi.IdempotencyKeyHeader, new string('k', TodoApi.MaxIdempotencyKeyLength + 1));

        using var response = await app.Client.SendAsync(request);

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Two_keys_in_one_request_answer_400_problem_details()
    {
        using var request = ItemRequest(TodoHttp.UniqueText("two keys"));
        request.Headers.TryAddWithoutValidation(TodoApi.IdempotencyKeyHeader, ["one", "two"]);

        using var response = await app.Client.SendAsync(request);

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string text, string key, string? prefer = null)
    {
        using var request = ItemRequest(text);
        request.Headers.TryAddWithoutValidation(TodoApi.IdempotencyKeyHeader, key);
        if (prefer is not null)
        {
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
        }

        using var response = await app.Client.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static HttpRequestMessage ItemRequest(string text) =>
        new(HttpMethod.Post, "/todo") { Content = TodoHttp.Content(Encoding.UTF8.GetBytes(TodoHttp.ItemBody(text)), TodoHttp.Json) };
}
