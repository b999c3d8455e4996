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
}
