using System.Net;
using System.Text.RegularExpressions;

namespace ToDoList.Tests;

/// <summary>
/// The diagnostics page and its dead-letter actions are an administrator's: from this machine while no key is set (the
/// all-in-one default stays one command), else only after signing in with <c>Admin:ApiKey</c>.
/// </summary>
public sealed partial class AdminAccessTests
{
    private const string Key = "correct-horse-battery-staple";

    [Fact]
    public async Task With_no_key_a_request_from_this_machine_sees_the_diagnostics()
    {
        await using var app = new AdminFixture([]);
        await app.InitializeAsync();
        using var client = NewClient(app, out _);

        using var page = await client.GetAsync("/diagnostics");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<h1>Diagnostics</h1>", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_no_key_and_loopback_not_trusted_everyone_is_sent_to_sign_in_which_says_to_set_a_key()
    {
        await using var app = new AdminFixture(["--Admin:AllowLoopback=false"]);
        await app.InitializeAsync();
        using var client = NewClient(app, out _);

        using var page = await client.GetAsync("/diagnostics");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/signin", page.Headers.Location!.PathAndQuery);
        var signIn = await client.GetStringAsync(page.Headers.Location);
        Assert.Contains("Admin__ApiKey", signIn);
    }

    [Fact]
    public async Task With_a_key_an_anonymous_caller_is_refused_and_the_right_key_signs_in()
    {
        await using var app = new AdminFixture([$"--Admin:ApiKey={Key}"]);
        await app.InitializeAsync();
        using var client = NewClient(app, out var cookies);

        // Even from this machine: a key set means only those who know it.
        using (var anonymous = await client.GetAsync("/diagnostics"))
        {
            Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
            Assert.StartsWith("/signin", anonymous.Headers.Location!.PathAndQuery);
        }

        var token = await AntiforgeryTokenAsync(client);
        using (var wrong = await client.PostAsync("/signin", Form(("key", "not the key"), ("returnUrl", "/diagnostics"), ("__RequestVerificationToken", token))))
        {
            Assert.Equal(HttpStatusCode.Redirect, wrong.StatusCode);
            Assert.Contains("refused=true", wrong.Headers.Location!.OriginalString);
            Assert.DoesNotContain(cookies.GetCookies(app.Address), c => c.Name == "todo-admin");
        }

        using (var right = await client.PostAsync("/signin", Form(("key", Key), ("returnUrl", "//evil.example/"), ("__RequestVerificationToken", token))))
        {
            Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
            // Never an open redirect: another host's address goes to the diagnostics instead.
            Assert.Equal("/diagnostics", right.Headers.Location!.OriginalString);
            var cookie = Assert.Single(right.Headers.GetValues("Set-Cookie"), c => c.StartsWith("todo-admin=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        }

        using var page = await client.GetAsync("/diagnostics");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<h1>Diagnostics</h1>", await page.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Key, await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Sign_in_without_the_antiforgery_token_is_refused_with_400()
    {
        await using var app = new AdminFixture([$"--Admin:ApiKey={Key}"]);
        await app.InitializeAsync();
        using var client = NewClient(app, out var cookies);

        using var forged = await client.PostAsync("/signin", Form(("key", Key)));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.DoesNotContain(cookies.GetCookies(app.Address), c => c.Name == "todo-admin");
    }

    private static HttpClient NewClient(TodoAppFixture app, out CookieContainer cookies)
    {
        cookies = new CookieContainer();
        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = app.Address };
    }

    private static async Task<string> AntiforgeryTokenAsync(HttpClient client)
    {
        var page = await client.GetStringAsync("/signin");
        var match = TokenInput().Match(page);
        Assert.True(match.Success, $"No antiforgery token on the sign-in page:\n{page}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();

    /// <summary>The app with its own admin settings.</summary>
    private sealed class AdminFixture(string[] settings) : TodoAppFixture, IAsyncDisposable
    {
        protected override IEnumerable<string> Settings => settings;

        ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
    }
}
