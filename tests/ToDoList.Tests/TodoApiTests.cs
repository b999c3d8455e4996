using ToDoList.Api;

namespace ToDoList.Tests;

/// <summary>SPEC §5: the REST API of the all-in-one app, over HTTP, with the queue and the save handler behind it.</summary>
public abstract class TodoApiTests(TodoAppFixture app)
{
    private readonly HttpClient _client = app.Client;

    [Fact]
    public async Task Post_with_the_seeds_body_and_header_answers_202_with_the_event_id()
    {
        // The seed's own command: curl http://localhost:8081/todo -d '{"item":"..."}' -H 'Content-Type:application/json'
        var text = TodoHttp.UniqueText("buy milk");
        var request = new HttpRequestMessage(HttpMethod.Post, "/todo")
        {
            Content = new StringContent($$"""{"item":"{{text}}"}"""),
        };
        request.Content.Headers.Remove("Content-Type");
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(TodoHttp.Json, response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrWhiteSpace(body.RootElement.GetProperty("eventId").GetString()));
        await _client.WaitForItemAsync(text);
    }

    [Fact]
    public async Task Posted_item_is_stored_exactly_once()
    {
        var text = TodoHttp.UniqueText("stored once");

        await _client.AddItemAsync(text);
        await _client.WaitForItemAsync(text);

        // Once a later item is saved, the queue has moved past ours: no second copy is on its way.
        await _client.AddItemAndWaitAsync(TodoHttp.UniqueText("later"));
        Assert.Single(await _client.GetItemsAsync(), i => i.Item == text);
    }

    [Theory]
    [InlineData("wait=5")]
    [InlineData("respond-async, wait=5")]
    [InlineData("WAIT=5")]
    public async Task Post_with_prefer_wait_answers_201_with_the_stored_item_and_its_location(string prefer)
    {
        var text = TodoHttp.UniqueText("wait for me");

        using var response = await _client.PostTodoAsync(TodoHttp.ItemBody(text), prefer: prefer);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("wait=5", Assert.Single(response.Headers.GetValues("Preference-Applied")));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        var id = root.GetProperty("id").GetInt32();
        Assert.True(id > 0);
        Assert.Equal(text, root.GetProperty("item").GetString());
        Assert.True(root.GetProperty("dateAdded").TryGetDateTimeOffset(out _));
        Assert.False(root.GetProperty("done").GetBoolean());
        Assert.Equal($"/todo/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetItemAsync(id)).Status);
    }

    [Fact]
    public async Task Post_trims_the_item_text()
    {
        var text = TodoHttp.UniqueText("trimmed");

        var saved = await _client.AddItemAndWaitAsync("  " + text + "\t");

        Assert.Equal(text, saved.Item);
    }

    [Fact]
    public async Task Post_keeps_a_given_date_added()
    {
        var text = TodoHttp.UniqueText("dated");
        var date = new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);

        using var response = await _client.PostTodoAsync($$"""{"item":"{{text}}","dateAdded":"2021-03-04T05:06:07Z"}""", prefer: "wait=5");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var saved = await response.Content.ReadFromJsonAsync<TodoItemResponse>(TodoHttp.Web);
        Assert.Equal(date, saved!.DateAdded);
    }

    [Fact]
    public async Task Get_lists_items_oldest_first_with_id_item_dateAdded_and_done()
    {
        var texts = Enumerable.Range(1, 3).Select(i => TodoHttp.UniqueText($"listed {i}")).ToList();
        var saved = new List<TodoItemResponse>();
        foreach (var text in texts)
        {
            saved.Add(await _client.AddItemAndWaitAsync(text));
        }

        using var response = await _client.GetAsync("/todo");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TodoHttp.Json, response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Array, body.RootElement.ValueKind);
        var items = body.RootElement.EnumerateArray().ToList();
        foreach (var item in items)
        {
            Assert.Equal(["dateAdded", "done", "id", "item"], item.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }

        var ids = items.Select(i => i.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Order(), ids);
        var ours = items.Where(i => texts.Contains(i.GetProperty("item").GetString()!)).ToList();
        Assert.Equal(texts, ours.Select(i => i.GetProperty("item").GetString()));
        Assert.Equal(saved.Select(s => s.Id), ours.Select(i => i.GetProperty("id").GetInt32()));
        var dates = ours.Select(i => i.GetProperty("dateAdded").GetDateTimeOffset()).ToList();
        Assert.Equal(dates.Order(), dates);
    }

    [Fact]
    public async Task Get_with_limit_and_after_pages_the_list()
    {
        var saved = new List<TodoItemResponse>();
        for (var i = 1; i <= 5; i++)
        {
            saved.Add(await _client.AddItemAndWaitAsync(TodoHttp.UniqueText($"page item {i}")));
        }

        var all = await _client.GetItemsAsync();
        var firstIndex = all.FindIndex(i => i.Id == saved[0].Id);
        var before = firstIndex == 0 ? 0 : all[firstIndex - 1].Id;

        var page1 = await _client.GetItemsAsync($"?limit=2&after={before}");
        var page2 = await _client.GetItemsAsync($"?limit=2&after={page1[^1].Id}");
        var page3 = await _client.GetItemsAsync($"?limit=2&after={page2[^1].Id}");

        Assert.Equal(saved.Take(2), page1);
        Assert.Equal(saved.Skip(2).Take(2), page2);
        Assert.Equal(saved[4], page3[0]);
        Assert.Equal(all.Take(3), await _client.GetItemsAsync("?limit=3"));
        Assert.Empty(await _client.GetItemsAsync($"?after={all[^1].Id}"));
        Assert.Empty(await _client.GetItemsAsync("?limit=0"));
        Assert.Equal(all.Count, (await _client.GetItemsAsync()).Count);
    }

    [Fact]
    public async Task Paging_through_every_page_gives_the_whole_list()
    {
        for (var i = 0; i < 5; i++)
        {
            await _client.AddItemAndWaitAsync(TodoHttp.UniqueText("walked"));
        }

        var all = await _client.GetItemsAsync();
        var walked = new List<TodoItemResponse>();
        var after = 0;
        while (await _client.GetItemsAsync($"?limit=3&after={after}") is { Count: > 0 } page)
        {
            Assert.True(page.Count <= 3);
            walked.AddRange(page);
            after = page[^1].Id;
        }

        Assert.Equal(all, walked);
    }

    [Fact]
    public async Task Get_by_id_answers_200_with_the_item()
    {
        var saved = await _client.AddItemAndWaitAsync(TodoHttp.UniqueText("by id"));

        var (status, item) = await _client.GetItemAsync(saved.Id);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(saved, item);
    }

    [Theory]
    [InlineData("/todo/987654321")]
    [InlineData("/todo/0")]
    [InlineData("/todo/-1")]
    [InlineData("/todo/not-a-number")]
    public async Task Get_by_unknown_id_answers_404(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Complete_answers_202_and_the_item_becomes_done()
    {
        var saved = await _client.AddItemAndWaitAsync(TodoHttp.UniqueText("to complete"));

        using var response = await _client.PostAsync($"/todo/{saved.Id}/complete", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrWhiteSpace(body.RootElement.GetProperty("eventId").GetString()));
        await Eventually.True(async () => (await _client.GetItemAsync(saved.Id)).Item?.Done == true, $"item {saved.Id} to be done");
    }

    [Fact]
    public async Task Completing_twice_keeps_the_item_done()
    {
        var saved = await _client.AddItemAndWaitAsync(TodoHttp.UniqueText("complete twice"));

        using var first = await _client.PostAsync($"/todo/{saved.Id}/complete", null);
        using var second = await _client.PostAsync($"/todo/{saved.Id}/complete", null);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        await Eventually.True(async () => (await _client.GetItemAsync(saved.Id)).Item?.Done == true, $"item {saved.Id} to be done");
    }

    [Fact]
    public async Task Delete_answers_202_and_the_item_is_then_gone()
    {
        var saved = await _client.AddItemAndWaitAsync(TodoHttp.UniqueText("to delete"));

        using var response = await _client.DeleteAsync($"/todo/{saved.Id}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.True(async () => (await _client.GetItemAsync(saved.Id)).Status == HttpStatusCode.NotFound, $"item {saved.Id} to be deleted");
        Assert.DoesNotContain(await _client.GetItemsAsync(), i => i.Id == saved.Id);
    }

    [Fact]
    public async Task Complete_of_a_missing_item_answers_404()
    {
        using var response = await _client.PostAsync("/todo/987654321/complete", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Delete_of_a_missing_item_answers_404()
    {
        using var response = await _client.DeleteAsync("/todo/987654321");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

public sealed class TodoApiOnSqliteTests(TodoAppFixture app) : TodoApiTests(app), IClassFixture<TodoAppFixture>;

[Collection(PostgresCollection.Name)]
public sealed class TodoApiOnPostgresTests(PostgresTodoAppFixture app) : TodoApiTests(app), IClassFixture<PostgresTodoAppFixture>;
