using System.Globalization;
using System.Text.RegularExpressions;

namespace ToDoList.BrowserTests;

/// <summary>/: the item count.</summary>
public sealed class HomeTests(TodoAppFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public Task Home_shows_the_item_count_and_it_changes_live() => InBrowserAsync(async browser =>
    {
        var home = await OpenAsync(browser, "/");
        var count = home.Locator("#item-count");
        await Assertions.Expect(count).ToHaveTextAsync(new Regex(@"^\d+$"));
        var before = int.Parse((await count.TextContentAsync())!, CultureInfo.InvariantCulture);

        var id = await PostItemAndWaitAsync(Unique("Count me"));

        await Assertions.Expect(count).ToHaveTextAsync(Text(before + 1));

        using var complete = await Fixture.Api.PostAsync($"/todo/{id}/complete", null);
        complete.EnsureSuccessStatusCode();

        await Assertions.Expect(count).ToHaveTextAsync(Text(before));
    });

    private static string Text(int count) => count.ToString(CultureInfo.InvariantCulture);
}
