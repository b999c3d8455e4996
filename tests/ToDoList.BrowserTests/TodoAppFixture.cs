namespace ToDoList.BrowserTests;

[CollectionDefinition(Name)]
public sealed class TodoAppCollection : ICollectionFixture<TodoAppFixture>
{
    public const string Name = "todo app in chromium";
}

/// <summary>Started once for every browser test: the published app as a process, and Debian's chromium driven by Playwright.</summary>
public sealed class TodoAppFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private TodoAppProcess? _app;
    private IBrowser? _browser;

    public TodoAppProcess App => _app ?? throw new InvalidOperationException("The app is not started.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started.");

    public HttpClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The browser is the system's chromium; Playwright must never fetch one.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assertions.SetDefaultExpectTimeout(BrowserTest.LiveDeadlineMs);
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install -y chromium (never `playwright install`).");
        }

        try
        {
            _app = await TodoAppProcess.StartAsync(await PublishedApp.DirectoryAsync());
            Api = new HttpClient { BaseAddress = _app.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
            _playwright = await Playwright.CreateAsync();
            // LaunchAsync gives the browser a new, empty user-data-dir of its own and removes it on close.
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args =
                [
                    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                ],
                Timeout = 30_000,
            });
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            _browser = null;
        }

        _playwright?.Dispose();
        _playwright = null;
        Api?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }
}
