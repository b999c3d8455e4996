using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ToDoList.BrowserTests;

/// <summary>
/// One scenario per test, in a fresh browser context on the shared app. Every wait has a deadline
/// (Playwright's auto-waiting locators and Expect), never a fixed sleep.
/// </summary>
[Collection(TodoAppCollection.Name)]
public abstract class BrowserTest(TodoAppFixture fixture)
{
    /// <summary>How long a live update may take to reach an open page.</summary>
    public const float LiveDeadlineMs = 10_000;

    protected TodoAppFixture Fixture { get; } = fixture;

    protected TodoAppProcess App => Fixture.App;

    /// <summary>
    /// Runs <paramref name="scenario"/> in a new browser context. A failure carries the browser's
    /// console errors and the app's log; a scenario whose pages threw script errors fails too.
    /// Without <paramref name="javaScript"/> pages stay as the server prerendered them: no circuit starts.
    /// </summary>
    protected async Task InBrowserAsync(Func<IBrowserContext, Task> scenario, bool javaScript = true)
    {
        var browserLog = new ConcurrentQueue<string>();
        var scriptErrors = new ConcurrentQueue<string>();
        await using var context = await Fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = App.BaseUrl.ToString(),
            JavaScriptEnabled = javaScript,
        });
        context.SetDefaultTimeout(LiveDeadlineMs);
        context.Page += (_, page) =>
        {
            page.Console += (_, message) =>
            {
                if (message.Type is "error" or "warning")
                {
                    browserLog.Enqueue($"[{message.Type}] {page.Url}: {message.Text}");
                }
            };
            page.Response += (_, response) =>
            {
                if (response.Status >= 400)
                {
                    browserLog.Enqueue($"[http {response.Status}] {response.Request.Method} {response.Url}");
                }
            };
            page.RequestFailed += (_, request) => browserLog.Enqueue($"[request failed] {request.Method} {request.Url}: {request.Failure}");
            page.PageError += (_, error) =>
            {
                browserLog.Enqueue($"[pageerror] {page.Url}: {error}");
                scriptErrors.Enqueue(error);
            };
        };

        try
        {
            await scenario(context);
            Assert.True(scriptErrors.IsEmpty, "Pages threw script errors:\n" + string.Join('\n', scriptErrors));
        }
        catch (Exception e)
        {
            throw new ScenarioFailedException(
                $"{e.GetType().Name}: {e.Message}\n\n--- browser console ---\n{string.Join('\n', browserLog)}\n\n--- todo app log (pid {App.ProcessId}) ---\n{App.Log}",
                e);
        }
    }

    /// <summary>Opens <paramref name="path"/> and waits until its circuit is interactive: a click before that is lost.</summary>
    protected static async Task<IPage> OpenAsync(IBrowserContext context, string path)
    {
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(path);
        Assert.True(response is { Ok: true }, $"GET {path} answered {response?.Status}");
        await WaitUntilInteractiveAsync(page);
        return page;
    }

    protected static Task WaitUntilInteractiveAsync(IPage page) =>
        Assertions.Expect(page.Locator("main[data-interactive=true]")).ToBeAttachedAsync();

    /// <summary>The list row showing <paramref name="text"/> (texts carry a unique marker, so it is one row).</summary>
    protected static ILocator Row(IPage page, string text) =>
        page.Locator("li.item").Filter(new LocatorFilterOptions { Has = page.Locator(".text", new PageLocatorOptions { HasTextString = text }) });

    protected static Task ExpectStateAsync(ILocator row, string state) =>
        Assertions.Expect(row).ToHaveAttributeAsync("data-state", state);

    /// <summary>A text no other test uses, so rows can be told apart on the shared app.</summary>
    protected static string Unique(string text) => $"{text} {Guid.NewGuid():N}"[..(text.Length + 13)];

    /// <summary>Adds an item through the REST API (the all-in-one serves it on the web port); answers once the queue has it.</summary>
    protected async Task PostItemAsync(string item)
    {
        using var response = await Fixture.Api.PostAsJsonAsync("/todo", new { item });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /todo answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Adds an item through the REST API and waits for the save handler (<c>Prefer: wait</c>); answers the stored item's id.</summary>
    protected async Task<int> PostItemAndWaitAsync(string item)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/todo") { Content = JsonContent.Create(new { item }) };
        request.Headers.Add("Prefer", "wait=10");
        using var response = await Fixture.Api.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /todo with Prefer: wait answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)?["id"]?.GetValue<int>() ?? throw new JsonException($"No id in {body}");
    }
}

public sealed class ScenarioFailedException(string message, Exception inner) : Exception(message, inner);
