using Microsoft.Playwright;

namespace ToDoList.ProcessTests;

/// <summary>
/// The diagnostics page shows what the queue itself sees, live, on every broker: the save handler's durable group with
/// its consumer, and, with the handler gone, the items posted meanwhile waiting for it, pushed without a reload.
/// (The embedded default has the same test among the browser tests.)
/// </summary>
public sealed class DiagnosticsBrokerTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private const float LiveDeadlineMs = 20_000;

    [Theory]
    [InlineData(QueueKind.Nats)]
    [InlineData(QueueKind.Redis)]
    [InlineData(QueueKind.RabbitMq)]
    public async Task The_diagnostics_page_shows_the_brokers_groups_and_their_lag_live(QueueKind queue)
    {
        var (deployment, _) = await NewDeploymentAsync(queue);
        await using var _ = deployment;
        if (queue == QueueKind.Nats)
        {
            // The seed's /connz, read from the server's monitoring port.
            deployment.Settings["MessageQueue__MonitorUrl"] = $"http://127.0.0.1:{Servers.Nats.MonitorPort}";
        }

        var saveHandler = deployment.StartHandlerAsync("save-handler");
        var api = deployment.StartListeningAsync("api");
        var web = deployment.StartListeningAsync("web");
        await Task.WhenAll(saveHandler, api, web);
        using var client = Deployment.ClientOf(await api);

        using var playwright = await Chromium.StartPlaywrightAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = (await web).BaseUrl!.ToString() });
        context.SetDefaultTimeout(LiveDeadlineMs);
        var page = await context.NewPageAsync();
        try
        {
            var response = await page.GotoAsync("/diagnostics");
            Assert.True(response is { Ok: true }, $"GET /diagnostics answered {response?.Status}");

            // The save handler's group, consumed by the running handler.
            var group = page.Locator("#broker-groups tr[data-group=save-handler]");
            if (queue != QueueKind.Redis)
            {
                // Redis lists a group's consumers from their first read on, and never forgets a gone one: no count to assert here.
                await Assertions.Expect(group.Locator(".consumers")).Not.ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(0|–)$"), new() { Timeout = LiveDeadlineMs });
            }

            await Assertions.Expect(group.Locator(".pending")).ToHaveTextAsync("0", new() { Timeout = LiveDeadlineMs });
            if (queue == QueueKind.Nats)
            {
                await Assertions.Expect(page.Locator("#broker-connections")).ToContainTextAsync("save-handler", new() { Timeout = LiveDeadlineMs });
            }

            // The handler gone, three items wait for it: the page shows them without a reload.
            await (await saveHandler).KillAsync();
            var navigations = 0;
            page.FrameNavigated += (_, frame) => navigations += frame == page.MainFrame ? 1 : 0;
            foreach (var i in Enumerable.Range(0, 3))
            {
                await PostItemAsync(client, Unique($"Waiting {i}"), () => deployment.Logs());
            }

            await Assertions.Expect(group.Locator(".pending")).ToHaveTextAsync("3", new() { Timeout = LiveDeadlineMs });
            Assert.Equal(0, navigations);
            Log($"{queue}: {await page.Locator("#broker").InnerTextAsync()}");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\npage: {await page.Locator("main").InnerTextAsync()}\n{deployment.Logs()}");
        }
    }
}
