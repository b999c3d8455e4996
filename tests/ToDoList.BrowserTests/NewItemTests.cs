using System.Text.RegularExpressions;

namespace ToDoList.BrowserTests;

/// <summary>/new: the form that publishes a new item.</summary>
public sealed class NewItemTests(TodoAppFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public Task Empty_form_shows_a_validation_message() => InBrowserAsync(async browser =>
    {
        var list = await OpenAsync(browser, "/list");
        var rowsBefore = await list.Locator("li.item").CountAsync();
        IPage form = null!;

        // A fresh form for each, so a message left from the one before proves nothing.
        foreach (var blank in new[] { "", "   " })
        {
            form = await OpenAsync(browser, "/new");
            await form.FillAsync("#item", blank);
            await form.ClickAsync("#add");

            await Assertions.Expect(form.Locator(".validation-message")).ToBeVisibleAsync();
            await Assertions.Expect(form.Locator(".validation-message")).ToHaveTextAsync("Enter an item.");
            await Assertions.Expect(form.Locator("#item")).ToHaveAttributeAsync("aria-invalid", "true");
            await Assertions.Expect(form.Locator("#status")).Not.ToContainTextAsync("Added");
        }

        // Nothing was published: events arrive in order, so once a valid item shows, a published blank one would have too.
        var sentinel = Unique("Valid after blanks");
        await form.FillAsync("#item", sentinel);
        await form.ClickAsync("#add");
        await ExpectStateAsync(Row(list, sentinel), "saved");
        await Assertions.Expect(list.Locator("li.item")).ToHaveCountAsync(rowsBefore + 1);
        await Assertions.Expect(form.Locator(".validation-message")).ToHaveCountAsync(0);
    });

    [Fact]
    public Task Form_carries_an_antiforgery_token() => InBrowserAsync(
        async browser =>
        {
            var page = await browser.NewPageAsync();
            await page.GotoAsync("/new");

            await Assertions.Expect(page.Locator("form input[type=hidden][name=__RequestVerificationToken]")).ToHaveAttributeAsync("value", new Regex(".{20,}"));
        },
        javaScript: false);
}
