using Microsoft.Playwright;

namespace ToDoList.ProcessTests;

/// <summary>Push across web replicas: every <c>todo web</c> process hears the queue, so every open list updates.</summary>
public sealed class WebReplicaTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private const float LiveDeadlineMs = 15_000;

    [Fact]
    public async Task Each_web_replica_pushes_saved_items()
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var saveHandler = deployment.StartHandlerAsync("save-handler");
        var api = deployment.StartListeningAsync("api");
        var webA = deployment.StartListeningAsync("web");
        var webB = deployment.StartListeningAsync("web");
        await Task.WhenAll(saveHandler, api, webA, webB);
        // Healthy is connected; the feed of the pages is a subscription of its own.
        var webs = new[] { await webA, await webB };
        await Task.WhenAll(webs.Select(w => w.WaitForLineAsync("Subscribed to events.todo.>", Deployment.StartDeadline)));
        using var client = Deployment.ClientOf(await api);

        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var pages = new List<IPage>();
        var navigations = 0;
        try
        {
            foreach (var web in webs)
            {
                var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = web.BaseUrl!.ToString() });
                context.SetDefaultTimeout(LiveDeadlineMs);
                var page = await context.NewPageAsync();
                var response = await page.GotoAsync("/list");
                Assert.True(response is { Ok: true }, $"GET {web.BaseUrl}list answered {response?.Status}");
                // The page is prerendered before its circuit runs: a change pushed before that would not show.
                await Assertions.Expect(page.Locator("main[data-interactive=true]")).ToBeAttachedAsync(new() { Timeout = LiveDeadlineMs });
                page.FrameNavigated += (_, frame) => navigations += frame == page.MainFrame ? 1 : 0;
                pages.Add(page);
            }

            var text = Unique("Pushed to every replica");
            await PostItemAsync(client, text, () => deployment.Logs());

            foreach (var page in pages)
            {
                var row = page.Locator("li.item").Filter(new() { Has = page.Locator(".text", new() { HasTextString = text }) });
                await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "saved", new() { Timeout = LiveDeadlineMs });
            }

            Assert.Equal(0, navigations);
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            Assert.Fail($"{e.GetType().Name}: {e.Message}\n\n{deployment.Logs()}");
        }
    }
}
