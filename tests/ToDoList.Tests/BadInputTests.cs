using ToDoList.Api;

namespace ToDoList.Tests;

/// <summary>SPEC §5, bad input: 400 problem details, 415, 413, and never a 5xx for anything a client sends.</summary>
public sealed class BadInputTests(TodoAppFixture app) : IClassFixture<TodoAppFixture>
{
    private readonly HttpClient _client = app.Client;

    public static TheoryData<string, string> BadBodies => new()
    {
        { "missing item", "{}" },
        { "null item", """{"item":null}""" },
        { "empty item", """{"item":""}""" },
        { "blank item", """{"item":"   "}""" },
        { "whitespace item", """{"item":"\t\r\n"}""" },
        { "257 characters", $$"""{"item":"{{new string('x', 257)}}"}""" },
        { "NUL character", """{"item":"milk\u0000and eggs"}""" },
        { "malformed JSON", """{"item":""" },
        { "unterminated string", """{"item":"milk""" },
        { "not JSON at all", "buy milk" },
        { "JSON array", """[{"item":"milk"}]""" },
        { "empty JSON array", "[]" },
        { "number item", """{"item": 5}""" },
        { "boolean item", """{"item": true}""" },
        { "object item", """{"item": {"text":"milk"}}""" },
        { "array item", """{"item": ["milk"]}""" },
        { "JSON null", "null" },
        { "JSON string", "\"milk\"" },
        { "JSON number", "42" },
        { "empty body", "" },
        { "bad date", """{"item":"milk","dateAdded":"yesterday"}""" },
        { "date before year 1 in UTC", """{"item":"milk","dateAdded":"0001-01-01T00:00:00+14:00"}""" },
        { "date after year 9999 in UTC", """{"item":"milk","dateAdded":"9999-12-31T23:59:59-14:00"}""" },
        { "trailing garbage", """{"item":"milk"} {"item":"eggs"}""" },
        { "comment", """{"item":"milk" /* and eggs */}""" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Post_of_a_bad_body_answers_400_problem_details(string why, string body)
    {
        using var response = await _client.PostTodoAsync(body);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode}");
        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Post_of_invalid_utf8_answers_400_problem_details()
    {
        byte[] body = [.. """{"item":"milk """u8, 0xC3, 0x28, 0xFF, .. "\"}"u8];

        using var response = await _client.PostTodoAsync(TodoHttp.Content(body, TodoHttp.Json));

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Post_of_json_after_a_utf8_byte_order_mark_is_accepted()
    {
        var text = TodoHttp.UniqueText("bom");
        byte[] body = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(TodoHttp.ItemBody(text))];

        using var response = await _client.PostTodoAsync(TodoHttp.Content(body, TodoHttp.Json), prefer: "wait=5");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Post_of_a_deeply_nested_body_answers_400_problem_details()
    {
        var body = new string('[', 10_000) + new string(']', 10_000);

        using var response = await _client.PostTodoAsync(body);

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Post_of_a_missing_item_names_the_item_field()
    {
        using var response = await _client.PostTodoAsync("{}");

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("item", out _));
    }

    [Fact]
    public async Task Post_of_256_characters_is_accepted()
    {
        var text = TodoHttp.UniqueText("max").PadRight(256, 'x');

        var saved = await _client.AddItemAndWaitAsync(text);

        Assert.Equal(256, saved.Item.Length);
        Assert.Equal(text, saved.Item);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task Post_with_another_content_type_answers_415(string? contentType)
    {
        using var response = await _client.PostTodoAsync("""{"item":"milk"}""", contentType);

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    public async Task Post_with_a_json_content_type_variant_is_accepted(string contentType)
    {
        var text = TodoHttp.UniqueText("variant");

        using var response = await _client.PostTodoAsync(TodoHttp.ItemBody(text), contentType, prefer: "wait=5");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Post_over_64_KiB_with_a_content_length_answers_413()
    {
        using var response = await _client.PostTodoAsync(TodoHttp.Content(PaddedBody(TodoApi.MaxBodyBytes + 1), TodoHttp.Json));

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Post_over_64_KiB_chunked_answers_413()
    {
        using var response = await _client.PostTodoAsync(new ChunkedContent(PaddedBody(TodoApi.MaxBodyBytes + 1)));

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Post_of_a_megabyte_chunked_answers_413()
    {
        using var response = await _client.PostTodoAsync(new ChunkedContent(PaddedBody(1024 * 1024)));

        await TodoHttp.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Post_of_exactly_64_KiB_is_accepted()
    {
        var text = TodoHttp.UniqueText("exactly 64 KiB");

        using var response = await _client.PostTodoAsync(TodoHttp.Content(PaddedBody(TodoApi.MaxBodyBytes, text), TodoHttp.Json), prefer: "wait=5");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Post_of_exactly_64_KiB_chunked_is_accepted()
    {
        var text = TodoHttp.UniqueText("exactly 64 KiB chunked");

        using var response = await _client.PostTodoAsync(new ChunkedContent(PaddedBody(TodoApi.MaxBodyBytes, text)), prefer: "wait=5");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("?limit=abc")]
    [InlineData("?after=abc")]
    [InlineData("?limit=99999999999999")]
    [InlineData("?limit=-5")]
    [InlineData("?after=-5")]
    [InlineData("?limit=1&limit=2")]
    public async Task Get_with_odd_paging_parameters_never_answers_5xx(string query)
    {
        using var response = await _client.GetAsync("/todo" + query);

        Assert.True((int)response.StatusCode < 500, $"{query}: {(int)response.StatusCode}");
    }

    [Theory]
    [InlineData("wait=abc")]
    [InlineData("wait=0")]
    [InlineData("wait=-3")]
    [InlineData("wait=99999999999999999")]
    [InlineData("wait")]
    [InlineData("respond-async, wait=")]
    public async Task Post_with_an_odd_prefer_header_answers_202(string prefer)
    {
        using var response = await _client.PostTodoAsync(TodoHttp.ItemBody(TodoHttp.UniqueText("odd prefer")), prefer: prefer);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Random_garbage_never_answers_5xx()
    {
        // A fixed seed, so a failure can be replayed.
        var random = new Random(20261125);
        string?[] contentTypes =
        [
            "application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "application/problem+json",
            "text/json", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded", "*/*", "application/", "garbage", ";;;", null,
        ];
        byte[] valid = """{"item":"fuzz","dateAdded":"2020-01-02T03:04:05Z"}"""u8.ToArray();
        string[] tokens = ["{", "}", "[", "]", ":", ",", "\"item\"", "\"dateAdded\"", "\"x\"", "null", "true", "1e999", "-0", "\"\\u0000\"", "\"\\ud800\"", " ", "\"2020-13-45\""];

        var failures = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var body = (i % 3) switch
            {
                0 => RandomBytes(random, random.Next(0, 200)),
                1 => Mutate(random, valid),
                _ => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => tokens[random.Next(tokens.Length)]))),
            };
            var contentType = contentTypes[random.Next(contentTypes.Length)];
            HttpContent content = random.Next(4) == 0 ? new ChunkedContent(body, contentType) : TodoHttp.Content(body, contentType);
            var prefer = random.Next(10) == 0 ? "wait=" + random.Next(-2, 2) : null;

            using var response = await _client.PostTodoAsync(content, prefer);
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"{(int)response.StatusCode} for {contentType ?? "(none)"} {Convert.ToBase64String(body)}: {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary><c>{"item":"…"}</c> padded with JSON whitespace to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] PaddedBody(int size, string item = "padded")
    {
        var head = TodoHttp.ItemBody(item)[..^1];
        return Encoding.UTF8.GetBytes(head + new string(' ', size - head.Length - 1) + "}");
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var bytes = source.ToList();
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(3))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>A body sent with <c>Transfer-Encoding: chunked</c>: no Content-Length for the server to check first.</summary>
    private sealed class ChunkedContent : HttpContent
    {
        private readonly byte[] _body;

        public ChunkedContent(byte[] body, string? contentType = TodoHttp.Json)
        {
            _body = body;
            if (contentType is not null)
            {
                Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < _body.Length; offset += 4096)
            {
                await stream.WriteAsync(_body.AsMemory(offset, Math.Min(4096, _body.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
