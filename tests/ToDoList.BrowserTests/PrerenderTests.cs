namespace ToDoList.BrowserTests;

/// <summary>What a page is before its circuit runs (here: never, scripts are off).</summary>
public sealed class PrerenderTests(TodoAppFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public Task Buttons_are_disabled_until_the_circuit_runs_so_no_click_is_lost()
    {
        var item = Unique("Prerendered");
        return InBrowserAsync(
            async browser =>
            {
                await PostItemAndWaitAsync(item);
                var page = await browser.NewPageAsync();

                await page.GotoAsync("/new");
                await Assertions.Expect(page.Locator("main")).ToHaveAttributeAsync("data-interactive", "false");
                await Assertions.Expect(page.Locator("#add")).ToBeDisabledAsync();

                await page.GotoAsync("/list");
                var row = Row(page, item);
                await ExpectStateAsync(row, "saved");
                await Assertions.Expect(row.Locator("button.complete")).ToBeDisabledAsync();
                await Assertions.Expect(row.Locator("button.delete")).ToBeDisabledAsync();

                await page.GotoAsync("/diagnostics");
                await Assertions.Expect(page.Locator("#refresh")).ToBeDisabledAsync();
            },
            javaScript: false);
    }
}
