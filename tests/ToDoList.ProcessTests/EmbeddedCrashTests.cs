using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace ToDoList.ProcessTests;

/// <summary>
/// The all-in-one <c>todo</c> with default settings (SQLite <c>todo.db</c>, <c>embedded://</c> with its queue file beside it),
/// killed with SIGKILL in the middle of a burst of POSTs: accepted means kept, so every item it answered 202 for is stored,
/// once, after it starts again on the same folder.
/// </summary>
public sealed class EmbeddedCrashTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private const int Posters = 48;
    private const int AcceptedBeforeTheKill = 400;

    [Fact]
    public async Task Every_item_accepted_before_a_SIGKILL_is_stored_once_after_the_restart()
    {
        await using var deployment = new Deployment(Servers.AppDir, "embedded://", "", Output);
        foreach (var setting in new[] { "MessageQueue__Url", "Database__Provider", "ConnectionStrings__ToDoDb" })
        {
            // Nothing set: the defaults of a first `todo` run.
            deployment.Settings[setting] = null;
        }

        var first = await deployment.StartAllInOneAsync();
        var accepted = new ConcurrentDictionary<string, string>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var client = Deployment.ClientOf(first))
        {
            var posters = Enumerable.Range(0, Posters).Select(poster => Task.Run(async () =>
            {
                for (var i = 0; !first.HasExited; i++)
                {
                    var text = Unique($"Crash {poster}.{i}");
                    if (await TryPostAsync(client, text) is { } eventId)
                    {
                        accepted[text] = eventId;
                        if (accepted.Count >= AcceptedBeforeTheKill)
                        {
                            enough.TrySetResult();
                        }
                    }
                }
            })).ToList();

            await WaitAsync(enough.Task, $"{AcceptedBeforeTheKill} items accepted", deployment);
            await first.KillAsync();
            await WaitAsync(Task.WhenAll(posters), "the posters to stop once the process was gone", deployment);
        }

        var savedBeforeTheKill = first.Lines.Count(l => l.Contains("Saved item", StringComparison.Ordinal));
        Log($"{accepted.Count} items answered 202 before the kill; the save handler had logged {savedBeforeTheKill} saves");

        var second = await deployment.StartAllInOneAsync();
        using var restarted = Deployment.ClientOf(second);
        var listed = await WaitForListedAsync(restarted, accepted.Keys, deployment);

        var missing = accepted.Keys.Where(text => !listed.Any(i => i.Item == text)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {accepted.Count} accepted items are not stored, e.g. {string.Join(", ", missing.Take(3))}");
        var twice = listed.GroupBy(i => i.Item).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} items are stored more than once, e.g. {string.Join(", ", twice.Take(3))}");
    }

    [Fact]
    public async Task Second_all_in_one_on_the_same_folder_exits_2_with_one_line_naming_the_queue_file()
    {
        await using var deployment = new Deployment(Servers.AppDir, "embedded://", "", Output);
        foreach (var setting in new[] { "MessageQueue__Url", "Database__Provider", "ConnectionStrings__ToDoDb" })
        {
            deployment.Settings[setting] = null;
        }

        var first = await deployment.StartAllInOneAsync();
        var second = deployment.Start("todo #2", ["--urls", "http://127.0.0.1:0"]);

        Assert.Equal(2, await second.WaitForExitAsync(Deployment.StartDeadline));
        var last = second.Lines.Last(l => !string.IsNullOrWhiteSpace(l));
        Assert.Contains("todo.queue.db is in use by another process", last);
        Assert.False(first.HasExited, $"the first one stopped.\n{first.Tail()}");
    }

    /// <summary>The event id of a 202, or null for any other answer or none (the process died under the request).</summary>
    private static async Task<string?> TryPostAsync(HttpClient client, string text)
    {
        try
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"item":"{{text}}"}"""));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync("/todo", content);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return null;
            }

            var body = await response.Content.ReadFromJsonAsync<Accepted>();
            return body?.EventId;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Every item once all of <paramref name="texts"/> are listed; fails at <see cref="ProcessTest.SaveDeadline"/>.</summary>
    private static async Task<List<ListedItem>> WaitForListedAsync(HttpClient client, ICollection<string> texts, Deployment deployment)
    {
        var deadline = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        List<ListedItem> listed;
        do
        {
            listed = await client.GetFromJsonAsync<List<ListedItem>>("/todo") ?? [];
            var stored = listed.Select(i => i.Item).ToHashSet();
            if (texts.All(stored.Contains))
            {
                return listed;
            }
        }
        while (deadline.Elapsed < SaveDeadline && await poll.WaitForNextTickAsync());

        var missing = texts.Count(text => !listed.Any(i => i.Item == text));
        Assert.Fail($"{missing} of {texts.Count} accepted items were still not stored {SaveDeadline.TotalSeconds:0} s after the restart.\n{deployment.Logs()}");
        return listed;
    }

    private static async Task WaitAsync(Task task, string what, Deployment deployment)
    {
        try
        {
            await task.WaitAsync(Deployment.StartDeadline);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Waited {Deployment.StartDeadline.TotalSeconds:0} s for {what}.\n{deployment.Logs()}");
        }
    }

    private sealed record Accepted(string EventId);
}
