using System.Globalization;

namespace ToDoList.BrowserTests;

/// <summary>/diagnostics: what runs, gathered by scatter-gather.</summary>
public sealed class DiagnosticsTests(TodoAppFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public Task Diagnostics_lists_the_running_instance() => InBrowserAsync(async browser =>
    {
        var page = await OpenAsync(browser, "/diagnostics");

        var instance = page.Locator("#instances tr[data-role=todo]");
        await Assertions.Expect(instance).ToHaveCountAsync(1);
        await Assertions.Expect(instance).ToContainTextAsync(App.ProcessId.ToString(CultureInfo.InvariantCulture));
    });

    [Fact]
    public Task Diagnostics_shows_the_embedded_queues_groups_with_their_consumers_and_lag() => InBrowserAsync(async browser =>
    {
        var page = await OpenAsync(browser, "/diagnostics");

        // The all-in-one's own queue: every durable group, each consumed by this process's handler, nothing waiting once idle.
        var saveGroup = page.Locator("#broker-groups tr[data-group=save-handler]");
        await Assertions.Expect(saveGroup.Locator(".consumers")).ToHaveTextAsync("1");
        await Assertions.Expect(saveGroup.Locator(".pending")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("#broker-groups tr[data-group=audit-handler] .consumers")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#broker-subjects tr[data-subject='events.todo.>']")).ToHaveCountAsync(1);
    });
}
