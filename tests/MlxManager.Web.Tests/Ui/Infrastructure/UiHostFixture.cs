using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Ui.Infrastructure;

/// <summary>
/// One real MLX Manager on a real Kestrel port (loopback, free port, its own temp data folder) and
/// one headless Debian Chromium, shared by the tests of an xunit collection.
/// </summary>
/// <remarks>
/// To write UI tests for a feature: declare a collection for your feature,
/// <c>[CollectionDefinition(Name)] public sealed class MyUi : ICollectionFixture&lt;UiHostFixture&gt;;</c>
/// (one host per collection; collections run in parallel), then derive your test class from
/// <see cref="UiTest"/> with <c>[Collection(Name)]</c> and <c>[Trait("Category", "UI")]</c>. Use
/// <see cref="UiTest.NewPageAsync"/> for each browser user, <see cref="UiTest.StepAsync"/> around each
/// step (it saves a screenshot, also on failure), page objects under Ui/PageObjects and Playwright's
/// <c>Expect(...)</c>; the test fails if the browser console shows an error. Seed data through
/// <see cref="App"/> (e.g. <see cref="MlxManagerFactory.CreateUserAsync"/>) or
/// <see cref="MlxManagerFactory.Settings"/> in a derived fixture's constructor.
/// </remarks>
public class UiHostFixture : IAsyncLifetime
{
    /// <summary>Debian's Chromium; never a downloaded browser.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    ];

    public MlxManagerFactory App { get; } = new();

    public string BaseUrl { get; private set; } = "";

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        App.UseKestrel(0);
        App.StartServer();
        var addresses = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First(address => address.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal);

        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install it with 'apt-get install -y chromium' (.ci/run does).");
        }
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        Playwright?.Dispose();
        await App.DisposeAsync();
    }
}
