using System.Text.Json;
using System.Text.RegularExpressions;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

public sealed partial class HtmxHostingTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public HtmxHostingTests(MlxManagerFactory app) => _app = app;

    [Fact]
    public async Task Layout_ConfiguresHtmxForSelfRequestsOnlyWithTheAntiforgeryToken()
    {
        using var client = _app.CreateAppClient();

        var html = await client.GetHtmlAsync("/login");

        var config = JsonDocument.Parse(HtmxConfigPattern().Match(html).Groups[1].Value).RootElement;
        config.GetProperty("selfRequestsOnly").GetBoolean().ShouldBeTrue();
        config.GetProperty("antiForgery").GetProperty("headerName").GetString().ShouldBe("RequestVerificationToken");
        config.GetProperty("antiForgery").GetProperty("requestToken").GetString().ShouldNotBeNullOrEmpty();
        html.ShouldContain("<script src=\"/_htmx/antiforgery.js\" defer></script>");
        html.ShouldContain("/lib/htmx/htmx.min.js");
        html.ShouldContain("/lib/idiomorph/idiomorph-ext.min.js");
        html.ShouldContain("/lib/htmx-ext-sse/sse.min.js");
        html.ShouldContain("hx-ext=\"morph\"");
    }

    [Fact]
    public void ShippedJavaScript_WritesNothingToTheConsole()
    {
        var scripts = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "wwwroot", "js"), "*.js", SearchOption.AllDirectories);

        scripts.ShouldNotBeEmpty();
        scripts.ShouldAllBe(script => !File.ReadAllText(script).Contains("console."));
    }

    [Fact]
    public void VendoredLibraries_ArePinnedVersions()
    {
        var lib = Path.Combine(AppContext.BaseDirectory, "wwwroot", "lib");

        File.ReadAllText(Path.Combine(lib, "htmx", "htmx.min.js")).ShouldContain("2.0.11");
        File.Exists(Path.Combine(lib, "htmx-ext-sse", "sse.min.js")).ShouldBeTrue();
        File.Exists(Path.Combine(lib, "idiomorph", "idiomorph-ext.min.js")).ShouldBeTrue();
        File.ReadAllText(Path.Combine(lib, "pico", "pico.min.css")).ShouldContain("2.1.1");
    }

    [GeneratedRegex("<meta name=\"htmx-config\" content='([^']+)'")]
    private static partial Regex HtmxConfigPattern();
}
