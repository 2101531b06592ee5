using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MlxManager.Web.Tests.Ui.Infrastructure;

/// <summary>
/// Base of UI tests: browser users (contexts) on the fixture's host, a screenshot per step under
/// <c>TestResults/ui/&lt;Class&gt;/&lt;Test&gt;/</c>, and a failure when the browser console shows an
/// error or the page throws. See <see cref="UiHostFixture"/> for how to use it.
/// </summary>
public abstract class UiTest : IAsyncLifetime
{
    private readonly List<IBrowserContext> _contexts = [];
    private readonly List<string> _browserErrors = [];
    private readonly List<Regex> _expectedErrors = [];
    private readonly ITestOutputHelper _output;
    private string _testName = "test";
    private int _step;

    protected UiTest(UiHostFixture fixture, ITestOutputHelper output)
    {
        Fixture = fixture;
        _output = output;
    }

    protected UiHostFixture Fixture { get; }

    /// <summary>Default time an <c>Expect(...)</c> waits.</summary>
    protected static readonly float ExpectTimeoutMs = 10_000;

    public Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(ExpectTimeoutMs);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.CloseAsync();
        }
        // A Content-Security-Policy violation is never expected: it means a page relies on something the policy blocks.
        _browserErrors.Where(error => error.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)
                || !_expectedErrors.Any(expected => expected.IsMatch(error)))
            .ShouldBeEmpty("the browser console must stay clean");
    }

    /// <summary>
    /// Tolerates console errors matching <paramref name="pattern"/>, for a step that provokes one on
    /// purpose (Chromium logs every 4xx document, e.g. when a test opens a missing page).
    /// </summary>
    protected void ExpectConsoleError(Regex pattern) => _expectedErrors.Add(pattern);

    /// <summary>A new browser user (own cookies) with a page open; <paramref name="scheme"/> emulates the OS light/dark preference.</summary>
    protected async Task<IPage> NewPageAsync(ColorScheme scheme = ColorScheme.Light, [CallerMemberName] string testName = "")
    {
        _testName = testName;
        var context = await Fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Fixture.BaseUrl,
            ColorScheme = scheme,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _browserErrors.Add($"console error on {page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => _browserErrors.Add($"page error on {page.Url}: {error}");
        return page;
    }

    /// <summary>Runs one step of the scenario and saves a screenshot of <paramref name="page"/> after it (or when it fails).</summary>
    protected async Task StepAsync(string name, IPage page, Func<Task> action)
    {
        var number = Interlocked.Increment(ref _step);
        try
        {
            await action();
        }
        catch (Exception)
        {
            await ScreenshotAsync(page, $"{number:00}-{name}-FAILED");
            throw;
        }
        await ScreenshotAsync(page, $"{number:00}-{name}");
    }

    /// <summary>Saves a full-page screenshot; returns its path.</summary>
    protected async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(ArtifactsRoot(), GetType().Name, _testName);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        _output.WriteLine($"screenshot: {path}");
        return path;
    }

    /// <summary><c>TestResults/ui</c> at the repository root, or <c>MLXMANAGER_UI_ARTIFACTS</c> when set.</summary>
    private static string ArtifactsRoot()
    {
        var configured = Environment.GetEnvironmentVariable("MLXMANAGER_UI_ARTIFACTS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MlxManager.sln")))
        {
            directory = directory.Parent;
        }
        return Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "TestResults", "ui");
    }
}
