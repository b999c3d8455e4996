using System.Net;

namespace ToDoList.BrowserTests;

/// <summary>The UI works under its Content-Security-Policy, and the browser is told not to sniff, frame or leak referrers.</summary>
public sealed class SecurityTests(TodoAppFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public Task Every_page_works_under_the_content_security_policy() => InBrowserAsync(async browser =>
    {
        // Recorded from before any page script runs; the policy itself never blocks this init script.
        await browser.AddInitScriptAsync("""
            window.__cspViolations = [];
            document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
            """);
        var pages = new List<IPage>();
        foreach (var path in new[] { "/", "/list", "/diagnostics", "/new" })
        {
            var page = await browser.NewPageAsync();
            var response = await page.GotoAsync(path);
            Assert.NotNull(response);
            var headers = await response.AllHeadersAsync();
            Assert.Contains("script-src 'self'", headers.GetValueOrDefault("content-security-policy"));
            Assert.Contains("frame-ancestors 'none'", headers.GetValueOrDefault("content-security-policy"));
            Assert.Equal("nosniff", headers.GetValueOrDefault("x-content-type-options"));
            await WaitUntilInteractiveAsync(page);
            pages.Add(page);
        }

        // The circuit works under the policy: an item added on the form shows saved on the list, by push.
        var list = pages[1];
        var form = pages[3];
        var text = Unique("Under the policy");
        await form.FillAsync("#item", text);
        await form.ClickAsync("#add");
        await ExpectStateAsync(Row(list, text), "saved");

        foreach (var page in pages)
        {
            var violations = await page.EvaluateAsync<string[]>("window.__cspViolations");
            Assert.True(violations.Length == 0, $"{page.Url} broke its policy: {string.Join("; ", violations)}");
        }
    });

    [Fact]
    public async Task Api_answers_carry_the_security_headers_too()
    {
        using var response = await Fixture.Api.GetAsync("/todo?limit=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("frame-ancestors 'none'", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
    }
}
