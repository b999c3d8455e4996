namespace ToDoList.Tests;

/// <summary>The API's rate limit per client: past the burst, <c>429</c> problem details with <c>Retry-After</c>, never a 5xx.</summary>
public sealed class RateLimitTests(RateLimitTests.StrictApp app) : IClassFixture<RateLimitTests.StrictApp>
{
    private const int Burst = 5;

    [Fact]
    public async Task Requests_past_the_burst_answer_429_with_retry_after()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < Burst * 3; i++)
        {
            var response = await app.Client.PostTodoAsync(TodoHttp.ItemBody(TodoHttp.UniqueText("limited")));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= response;
            }
            else
            {
                response.Dispose();
            }
        }

        // One permit a second: the first burst passes, most of the rest is refused.
        Assert.All(statuses.Take(Burst), s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.NotNull(refused);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Accepted or HttpStatusCode.TooManyRequests, $"answered {(int)s}"));
        await TodoHttp.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
        refused.Dispose();
    }

    [Fact]
    public async Task Health_and_pages_are_not_limited()
    {
        for (var i = 0; i < Burst * 3; i++)
        {
            using var response = await app.Client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    public sealed class StrictApp : TodoAppFixture
    {
        protected override IEnumerable<string> Settings => ["--Api:RateLimit:PermitsPerSecond=1", $"--Api:RateLimit:Burst={Burst}"];
    }
}
