using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ToDoList.ProcessTests;

/// <summary>A scenario on the run's servers: its own database, a message queue with no durable leftovers, its own processes.</summary>
[Collection(ProcessCollection.Name)]
public abstract class ProcessTest(Servers servers, ITestOutputHelper output)
{
    /// <summary>How long an accepted item may take to be stored when every process is up.</summary>
    public static readonly TimeSpan SaveDeadline = TimeSpan.FromSeconds(30);

    protected Servers Servers { get; } = servers;

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>A deployment on the run's NATS server, or <paramref name="queue"/> (with nothing durable left from a former scenario), and a new database.</summary>
    protected async Task<(Deployment Deployment, TodoDatabase Database)> NewDeploymentAsync(QueueKind queue = QueueKind.Nats)
    {
        var queueUrl = await Servers.FreshQueueUrlAsync(queue);
        var connectionString = await Servers.NewDatabaseAsync();
        return (new Deployment(Servers.AppDir, queueUrl, connectionString, Output), new TodoDatabase(connectionString));
    }

    /// <summary>
    /// The seed's request, exactly: <c>curl http://localhost:8081/todo -d '{"item":"..."}' -H 'Content-Type:application/json'</c>.
    /// Asserts 202 Accepted and answers the event id.
    /// </summary>
    protected static async Task<string> PostItemAsync(HttpClient api, string item, Func<string>? logs = null)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"item":"{{item}}"}"""));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await api.PostAsync("/todo", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /todo {item} answered {(int)response.StatusCode}: {body}\n{logs?.Invoke()}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("eventId").GetString() ?? throw new JsonException($"No eventId in {body}");
    }

    /// <summary>A text no other item of the run has; plain ASCII, so it appears unchanged in JSON and logs.</summary>
    protected static string Unique(string text) => $"{text} {Guid.NewGuid():N}"[..(text.Length + 13)];

    protected void Log(string line) => Output.WriteLine(line);

    protected static async Task<T> TimedAsync<T>(Func<Task<T>> action, Action<TimeSpan> report)
    {
        var clock = Stopwatch.StartNew();
        var result = await action();
        report(clock.Elapsed);
        return result;
    }
}

/// <summary>An item as <c>GET /todo</c> answers it.</summary>
public sealed record ListedItem(int Id, string Item, DateTimeOffset DateAdded, bool Done);
