using ToDoList.Messaging;

namespace ToDoList.Tests;

/// <summary>SPEC §1 and §5: health, metrics, the OpenAPI document and the interactive API page.</summary>
public sealed class OperationsEndpointsTests(TodoAppFixture app) : IClassFixture<TodoAppFixture>
{
    private readonly HttpClient _client = app.Client;

    [Fact]
    public async Task Healthz_answers_200_healthy_with_the_queue_and_the_database()
    {
        using var response = await _client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
        var checks = health.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetString());
        Assert.Equal("Healthy", checks.GetProperty("message-queue").GetString());
    }

    [Fact]
    public async Task Metrics_count_sent_messages_in_prometheus_text()
    {
        await app.Bus.PublishAsync(new Message("metrics.test", "ping"u8.ToArray()));

        // The exporter caches a scrape briefly, so ask until the count shows.
        var text = await Eventually.Returns(async () =>
        {
            using var response = await _client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStringAsync();
            return body.Contains("messaging_client_sent_messages_total", StringComparison.Ordinal) ? body : null;
        }, "messaging_client_sent_messages_total on /metrics");

        var sample = text.Split('\n').First(l => l.StartsWith("messaging_client_sent_messages_total", StringComparison.Ordinal));
        Assert.True(double.Parse(sample.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) >= 1, sample);
    }

    [Fact]
    public async Task Metrics_report_each_durable_groups_consumer_lag()
    {
        // What the broker monitor reads now and then, read at once here.
        await app.Bus.InspectBrokerAsync();

        var text = await Eventually.Returns(async () =>
        {
            var body = await _client.GetStringAsync("/metrics");
            return body.Contains("messaging_consumer_lag", StringComparison.Ordinal) ? body : null;
        }, "messaging_consumer_lag on /metrics");

        var sample = text.Split('\n').FirstOrDefault(l => l.StartsWith("messaging_consumer_lag{", StringComparison.Ordinal) && l.Contains("messaging_consumer_group_name=\"save-handler\"", StringComparison.Ordinal));
        Assert.True(sample is not null, text);
        Assert.True(double.Parse(sample.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) >= 0, sample);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_todo_api()
    {
        using var response = await _client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/todo", out var todo));
        Assert.True(todo.TryGetProperty("post", out _));
        Assert.True(todo.TryGetProperty("get", out _));
        Assert.True(paths.TryGetProperty("/todo/{id}", out _));
    }

    [Theory]
    [InlineData("/scalar")]
    [InlineData("/scalar/v1")]
    public async Task Interactive_api_page_answers_200(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Home_page_answers_200()
    {
        using var response = await _client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
