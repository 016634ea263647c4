using Microsoft.Playwright;

namespace LabRunner.Tests.Shared;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright for .NET, to look at a report as a person would: Playwright never
/// downloads a browser here, it launches the system's (<see cref="Chromium"/>), as root in CI hence --no-sandbox, with
/// Chromium's own background traffic off (updates, sync, safe-browsing lists). A missing Chromium fails the spec with
/// the fix: CI provisions it, so a missing one is a broken machine, not a reason to skip. Compiled into the browser
/// specs and the integration specs (tests/Shared/Browser).
/// </summary>
public sealed class ReportBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    public const string Fix = "apt-get install -y chromium (or bash vagrant/provision.sh --tools)";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private ReportBrowser(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

    public static async Task<ReportBrowser> LaunchAsync()
    {
        if (!File.Exists(Chromium)) Assert.Fail($"{Chromium} is missing: the report's browser specs need Debian's chromium. Fix: {Fix}");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Timeout = 60_000,
                Args =
                [
                    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
                ],
            });
            return new ReportBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens a report file as a person would (a file: URL) in a window of a projector's size, light or dark.</summary>
    public async Task<ReportPage> OpenAsync(string path, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            ColorScheme = scheme,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        var page = await context.NewPageAsync();
        var opened = new ReportPage(context, page);
        page.Request += (_, request) => opened.Requests.Add(request.Url);
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning") opened.ConsoleProblems.Add(message.Text);
        };
        await page.GotoAsync(new Uri(Path.GetFullPath(path)).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        return opened;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    /// <summary>
    /// Where screenshots go: browser/ under the test run's results directory (`dotnet test --results-directory DIR`, as
    /// run-lab.sh and CI give it), or TestResults/ beside the test assembly.
    /// </summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var args = Environment.GetCommandLineArgs();
            var i = Array.IndexOf(args, "--results-directory");
            var results = i >= 0 && i + 1 < args.Length ? args[i + 1] : Path.Combine(AppContext.BaseDirectory, "TestResults");
            var directory = Path.Combine(results, "browser");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }
}

/// <summary>A report open in a tab: what it requested while loading, and what its console said.</summary>
public sealed class ReportPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    public List<string> Requests { get; } = [];

    public List<string> ConsoleProblems { get; } = [];

    /// <summary>A full-page screenshot under <see cref="ReportBrowser.ScreenshotDirectory"/>, its path in the test's output.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(ReportBrowser.ScreenshotDirectory, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        return path;
    }

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}
