using System.Text.Json;

namespace ToDoList.BrowserTests;

/// <summary>/list: a live list, pushed from the queue to every open page.</summary>
public sealed class ListTests(TodoAppFixture fixture) : BrowserTest(fixture)
{
    // Records every data-state the row with the marker text shows, in order, so "pending then saved" can be checked afterwards.
    private const string RecordStates = """
        marker => {
            window.__states = [];
            const record = () => {
                for (const li of document.querySelectorAll('li.item')) {
                    if (li.querySelector('.text')?.textContent.includes(marker) && window.__states.at(-1) !== li.dataset.state) {
                        window.__states.push(li.dataset.state);
                    }
                }
            };
            new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-state'] });
        }
        """;

    [Fact]
    public Task New_item_appears_in_an_already_open_list_without_reload() => InBrowserAsync(async browser =>
    {
        var item = Unique("Buy milk");
        var list = await OpenAsync(browser, "/list");
        await list.EvaluateAsync(RecordStates, item);
        var navigations = 0;
        list.FrameNavigated += (_, frame) => navigations += frame == list.MainFrame ? 1 : 0;

        var form = await OpenAsync(browser, "/new");
        await form.FillAsync("#item", item);
        await form.ClickAsync("#add");

        await ExpectStateAsync(Row(list, item), "saved");
        var states = (await list.EvaluateAsync<string[]>("() => window.__states"))!;
        Assert.True(states is ["saved"] or ["pending", "saved"], $"The row went through {JsonSerializer.Serialize(states)}; expected pending (if a render caught it), then saved.");
        Assert.Equal(0, navigations);
    });

    [Fact]
    public Task Item_posted_to_the_API_appears_in_an_already_open_list() => InBrowserAsync(async browser =>
    {
        var item = Unique("Posted through the API");
        var list = await OpenAsync(browser, "/list");

        await PostItemAsync(item);

        await ExpectStateAsync(Row(list, item), "saved");
    });

    [Fact]
    public Task Markup_in_an_item_shows_as_text() => InBrowserAsync(async browser =>
    {
        var marker = Unique("xss");
        var item = $"""<img src=x onerror="window.__xss=1"><b>bold</b> {marker}""";
        var list = await OpenAsync(browser, "/list");

        var form = await OpenAsync(browser, "/new");
        await form.FillAsync("#item", item);
        await form.ClickAsync("#add");
        await Assertions.Expect(form.Locator("#status")).ToContainTextAsync("<b>bold</b>");
        await Assertions.Expect(form.Locator("#status b, #status img")).ToHaveCountAsync(0);

        // Pushed live to an open list, then rendered by the server on a fresh load: text both ways.
        var live = Row(list, marker);
        await ExpectStateAsync(live, "saved");
        var reloaded = await OpenAsync(browser, "/list");
        foreach (var page in new[] { list, reloaded })
        {
            await Assertions.Expect(Row(page, marker).Locator(".text")).ToHaveTextAsync(item);
            await Assertions.Expect(page.Locator("#items b, #items img")).ToHaveCountAsync(0);
        }

        foreach (var page in new[] { list, reloaded, form })
        {
            Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__xss"));
        }
    });

    [Fact]
    public Task Done_marks_the_row_done_and_Delete_removes_it_in_every_open_list() => InBrowserAsync(async browser =>
    {
        var item = Unique("Walk the dog");
        var list = await OpenAsync(browser, "/list");
        var other = await OpenAsync(browser, "/list");
        await PostItemAsync(item);
        var row = Row(list, item);
        await ExpectStateAsync(row, "saved");
        // A background tab gets few animation frames, and Playwright waits for frames before it clicks.
        await list.BringToFrontAsync();

        await row.Locator("button.complete").ClickAsync();

        await ExpectStateAsync(row, "done");
        await ExpectStateAsync(Row(other, item), "done");
        await Assertions.Expect(row.Locator("button.complete")).ToHaveCountAsync(0);

        await row.Locator("button.delete").ClickAsync();

        await Assertions.Expect(row).ToHaveCountAsync(0);
        await Assertions.Expect(Row(other, item)).ToHaveCountAsync(0);
    });
}
