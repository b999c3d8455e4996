using ToDoList.Api;

namespace ToDoList.Tests;

/// <summary>The API of SPEC §5 as a test calls it: the seed's exact request, and waiting for what the queue does.</summary>
public static class TodoHttp
{
    public const string Json = "application/json";
    public const string ProblemJson = "application/problem+json";

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>An item text no other test uses, so tests sharing an app never see each other's items.</summary>
    public static string UniqueText(string what) => $"{what} {Guid.NewGuid():N}";

    /// <summary>The seed's <c>{"item":"…"}</c>, serialized as any client would.</summary>
    public static string ItemBody(string item) => JsonSerializer.Serialize(new { item });

    /// <summary><c>POST /todo</c> with exactly this body and <c>Content-Type</c> (none when null).</summary>
    public static Task<HttpResponseMessage> PostTodoAsync(this HttpClient client, HttpContent content, string? prefer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/todo") { Content = content };
        if (prefer is not null)
        {
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostTodoAsync(this HttpClient client, string body, string? contentType = Json, string? prefer = null) =>
        client.PostTodoAsync(Content(Encoding.UTF8.GetBytes(body), contentType), prefer);

    public static ByteArrayContent Content(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return content;
    }

    /// <summary>Posts an item as the seed does and returns the event id of the <c>202 Accepted</c>.</summary>
    public static async Task<string> AddItemAsync(this HttpClient client, string item)
    {
        using var response = await client.PostTodoAsync(ItemBody(item));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<AcceptedResponse>(Web);
        Assert.False(string.IsNullOrEmpty(accepted?.EventId));
        return accepted.EventId;
    }

    /// <summary>Posts an item with <c>Prefer: wait=5</c> and returns the stored item of the <c>201 Created</c>.</summary>
    public static async Task<TodoItemResponse> AddItemAndWaitAsync(this HttpClient client, string item)
    {
        using var response = await client.PostTodoAsync(ItemBody(item), prefer: "wait=5");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TodoItemResponse>(Web))!;
    }

    public static async Task<List<TodoItemResponse>> GetItemsAsync(this HttpClient client, string query = "")
    {
        using var response = await client.GetAsync("/todo" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<List<TodoItemResponse>>(Web))!;
    }

    public static async Task<(HttpStatusCode Status, TodoItemResponse? Item)> GetItemAsync(this HttpClient client, int id)
    {
        using var response = await client.GetAsync($"/todo/{id}");
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<TodoItemResponse>(Web) : null);
    }

    /// <summary>Polls <c>GET /todo</c> until an item with this text is stored.</summary>
    public static Task<TodoItemResponse> WaitForItemAsync(this HttpClient client, string text) =>
        Eventually.Returns(async () => (await client.GetItemsAsync()).FirstOrDefault(i => i.Item == text), $"'{text}' to be stored");

    /// <summary>Asserts a problem details answer: the status, <c>application/problem+json</c>, and a title.</summary>
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.True(problem.RootElement.TryGetProperty("title", out var title) && !string.IsNullOrWhiteSpace(title.GetString()), body);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
    }
}
