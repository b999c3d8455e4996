using Microsoft.EntityFrameworkCore;
using ToDoList.Api;

namespace ToDoList.Tests;

/// <summary>
/// Thousands of random requests on every API route: malformed JSON, huge and deep bodies, odd content types, unicode,
/// control characters, markup, SQL fragments. None answers 5xx, the app stays healthy, and every item it accepted is
/// stored exactly as sent (markup and SQL are text, nothing else).
/// </summary>
public sealed class FuzzTests(FuzzTests.UnlimitedApp app) : IClassFixture<FuzzTests.UnlimitedApp>
{
    private const int Requests = 3000;

    private static readonly string[] Nasty =
    [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>", "{{7*7}}", "@(1+1)", "${jndi:ldap://x}",
        "'; DROP TABLE \"Items\"; --", "' OR '1'='1", "1; DELETE FROM \"Items\"", "\\'; SELECT pg_sleep(5); --", "%s%s%n", "../../etc/passwd",
        "😀👍🏽👨‍👩‍👧", "\u202Eevil\u202C", "e\u0301\u0301\u0301", "zero\u200Bwidth", "日本語テキスト", "مرحبا", "\u0001\u0007\u001B[31mred",
        "tab\there", "line\r\nbreak", "\uFEFFbom", "\uFFFD", "a\u0085b", "  padded  ", "null", "true", "[]", "{}", "\\", "\"",
    ];

    private static readonly string?[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "application/merge-patch+json",
        "text/json", "text/html", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
        "application/xml", "*/*", "application/json, text/plain", "\u00e9/\u00e9", "", null,
    ];

    private static readonly string[] Paths =
    [
        // No DELETE of a stored item: each accepted item must be found at the end (complete only marks it done).
        "/todo", "/todo/", "/todo/999999", "/todo/0", "/todo/-1", "/todo/2147483648", "/todo/abc", "/todo/1/complete", "/todo/x/complete",
        "/todo?limit=-5", "/todo?limit=abc", "/todo?after=99999999999999", "/todo?limit=1&limit=2", "/todo/%00", "/todo/..%2f..%2fetc",
        "/todo/%E2%80%AE", "/todo?limit=1&after=-1",
    ];

    private static readonly HttpMethod[] Methods = [HttpMethod.Post, HttpMethod.Post, HttpMethod.Post, HttpMethod.Get, HttpMethod.Delete, HttpMethod.Put, HttpMethod.Patch];

    [Fact]
    public async Task Thousands_of_random_requests_never_answer_5xx_and_accepted_items_are_stored_verbatim()
    {
        // A fixed seed, so a failure can be replayed.
        var random = new Random(5_2026_11_25);
        var failures = new List<string>();
        var accepted = new Dictionary<string, string>(StringComparer.Ordinal);
        var sentRequests = new Dictionary<string, string>(StringComparer.Ordinal);
        var statuses = new Dictionary<int, int>();

        // Header values go out as UTF-8 bytes, as a careless client sends them; HttpClient's default refuses non-ASCII.
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = app.Address };

        for (var i = 0; i < Requests; i++)
        {
            using var request = RandomRequest(random, i, out var sentItem, out var key);
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status >= 500)
            {
                failures.Add($"#{i} {request.Method} {request.RequestUri} answered {status}: {await response.Content.ReadAsStringAsync()}");
            }
            else if (status == 202 && sentItem is not null && key is not null)
            {
                accepted[key] = sentItem.Trim();
                sentRequests[key] = $"{request.Method} {request.RequestUri} {request.Headers} {await response.Content.ReadAsStringAsync()}";
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.True(statuses.GetValueOrDefault(202) > Requests / 10, "Too few requests were accepted to prove anything: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        Assert.True(statuses.GetValueOrDefault(400) > Requests / 10, "Too few requests were refused to prove anything: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));

        using (var health = await app.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Every accepted item is stored, under its key, exactly as sent: markup and SQL stay text.
        var keys = accepted.Keys.ToList();
        Dictionary<string, string> stored = [];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var db = await app.CreateDbContextAsync();
            stored = await db.Items.AsNoTracking().Where(i => keys.Contains(i.EventId)).ToDictionaryAsync(i => i.EventId, i => i.Item);
            if (stored.Count == keys.Count || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(100);
        }

        var missing = accepted.Where(a => !stored.ContainsKey(a.Key)).Take(10).Select(a => $"{a.Key}: {JsonSerializer.Serialize(a.Value)} {sentRequests[a.Key]}");
        var deadLetters = (await app.Services.GetRequiredService<ToDoList.Messaging.DeadLetters.DeadLetterStore>().ListAsync(limit: 5)).Select(l => $"{l.EventId}: {l.Error}");
        Assert.True(stored.Count == keys.Count, $"{keys.Count - stored.Count} of {keys.Count} accepted items not stored, e.g.\n{string.Join("\n", missing)}\ndead letters:\n{string.Join("\n", deadLetters)}");
        Assert.All(accepted, pair => Assert.Equal(pair.Value, stored[pair.Key]));
    }

    private static HttpRequestMessage RandomRequest(Random random, int index, out string? sentItem, out string? key)
    {
        sentItem = null;
        key = null;
        var method = Methods[random.Next(Methods.Length)];
        var path = method == HttpMethod.Post && random.Next(4) != 0 ? "/todo" : Paths[random.Next(Paths.Length)];
        var request = new HttpRequestMessage(method, path);

        if (method != HttpMethod.Get && method != HttpMethod.Delete)
        {
            byte[] body;
            switch (random.Next(8))
            {
                case 0:
                    body = RandomBytes(random, random.Next(0, 300));
                    break;
                case 1:
                    body = Deep(random);
                    break;
                case 2:
                    body = Huge(random);
                    break;
                case 3:
                    body = Encoding.UTF8.GetBytes(Mutate(random, TodoHttp.ItemBody(NastyText(random, index))));
                    break;
                default:
                    // A well-formed item of nasty text: accepted unless blank, too long or with NUL, and then stored verbatim.
                    sentItem = NastyText(random, index);
                    body = Encoding.UTF8.GetBytes(TodoHttp.ItemBody(sentItem));
                    break;
            }

            if (method != HttpMethod.Post || !(path is "/todo" or "/todo/" || path.StartsWith("/todo?", StringComparison.Ordinal)))
            {
                // Not the route that adds items (POST /todo/1/complete answers 202 for its command).
                sentItem = null;
            }

            request.Content = TodoHttp.Content(body, sentItem is null ? ContentTypes[random.Next(ContentTypes.Length)] : TodoHttp.Json);
        }

        if (random.Next(10) == 0)
        {
            request.Headers.TryAddWithoutValidation("Prefer", random.Next(3) switch { 0 => "wait=0", 1 => "wait=abc", _ => "respond-async, wait=-3" });
        }

        // Line breaks and NUL cannot be sent in a header at all; anything else can.
        key = random.Next(20) == 0 ? new string(RandomText(random, random.Next(0, 200)).Where(c => c is not ('\r' or '\n' or '\0')).ToArray()) : $"fuzz-{index}-{random.Next()}";
        request.Headers.TryAddWithoutValidation(TodoApi.IdempotencyKeyHeader, key);
        if (!key.All(c => c is > ' ' and < (char)0x7F) || key.Length is 0 or > TodoApi.MaxIdempotencyKeyLength)
        {
            sentItem = null;
        }

        return request;
    }

    private static string NastyText(Random random, int index)
    {
        var parts = Enumerable.Range(0, random.Next(1, 5)).Select(_ => random.Next(3) == 0 ? RandomText(random, random.Next(1, 40)) : Nasty[random.Next(Nasty.Length)]);
        var text = $"#{index} " + string.Concat(parts);
        return random.Next(15) == 0 ? text + new string('x', random.Next(200, 400)) : text;
    }

    /// <summary>Any UTF-16 code units but lone surrogates, which no client can send as UTF-8.</summary>
    private static string RandomText(Random random, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            char c;
            do
            {
                c = random.Next(4) == 0 ? (char)random.Next(0, 0x80) : (char)random.Next(0, 0xFFFF);
            }
            while (char.IsSurrogate(c));
            chars[i] = c;
        }

        return new string(chars);
    }

    private static byte[] Deep(Random random)
    {
        var depth = random.Next(10, 5000);
        var open = random.Next(2) == 0 ? "[" : "{\"item\":";
        var close = open == "[" ? "]" : "}";
        return Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, random.Next(0, depth + 1))));
    }

    private static byte[] Huge(Random random) => random.Next(3) switch
    {
        0 => Encoding.UTF8.GetBytes(TodoHttp.ItemBody(new string('h', random.Next(60_000, 70_000)))),
        1 => Encoding.UTF8.GetBytes("{\"item\":\"huge\"," + string.Join(',', Enumerable.Range(0, random.Next(1000, 8000)).Select(i => $"\"k{i}\":{i}")) + "}"),
        _ => RandomBytes(random, random.Next(65_000, 300_000)),
    };

    private static string Mutate(Random random, string source)
    {
        var chars = source.ToList();
        for (var n = random.Next(1, 6); n > 0 && chars.Count > 0; n--)
        {
            var at = random.Next(chars.Count);
            switch (random.Next(3))
            {
                case 0:
                    chars[at] = "{}[]\",:\\"[random.Next(8)];
                    break;
                case 1:
                    chars.RemoveAt(at);
                    break;
                default:
                    chars.Insert(at, (char)random.Next(0, 0x7F));
                    break;
            }
        }

        return new string([.. chars]);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    public sealed class UnlimitedApp : TodoAppFixture
    {
        protected override IEnumerable<string> Settings => ["--Api:RateLimit:PermitsPerSecond=0"];
    }
}
