using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts.Keys;
using MlxManager.ModelFixtures;
using MlxManager.Testing;
using MlxManager.Web.Pages.Connect;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Gateway;

/// <summary>
/// /connect over real HTTP: the base URL as the browser reached the manager, one entry per /v1/models name, no secret,
/// and a curl snippet that — run as printed, by bash, with a personal key in <c>$MLXM_API_KEY</c> — starts the model on
/// demand and streams its answer.
/// </summary>
public sealed partial class ConnectPageTests(GatewayHost host) : IClassFixture<GatewayHost>
{
    [LinuxFact]
    public async Task TheCurlSnippet_AsPrinted_StartsTheModel_AndStreamsItsAnswer()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Connect Qwen", FixtureCatalog.QwenThinking.RepoId, configure: p => p.GatewayNames = "connect-qwen");
        var (user, browser) = await SignedInAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var secret = (await scope.ServiceProvider.GetRequiredService<PersonalApiKeys>()
            .CreateAsync(new KeyViewer(user.Id, false), new NewApiKey("curl", null, ApiKeyScopes.Inference))).Secret!;

        var page = await browser.GetHtmlAsync("/connect");

        page.ShouldContain($"{host.BaseUrl.ToString().TrimEnd('/')}/v1");
        page.ShouldNotContain(secret);
        page.ShouldNotContain(secret[..12]);
        var curl = Snippets(page, "curl").Single(s => s.Contains("\"connect-qwen\"", StringComparison.Ordinal));
        curl.ShouldContain("$MLXM_API_KEY");

        var (exit, output) = await RunBashAsync(curl, secret);

        exit.ShouldBe(0, output);
        output.ShouldContain("data: ");
        output.ShouldContain("[DONE]");
        host.Supervisor.Find(profile.Id).ShouldNotBeNull().IsReady.ShouldBeTrue("started on demand by the snippet");
        (await host.Supervisor.StopServerAsync(profile.Id, default)).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public async Task EveryNameOfV1Models_HasItsSnippets()
    {
        await SeedProfiles.AddAsync(host.App, "Named twice", FixtureCatalog.LlamaTools.RepoId, configure: p => p.GatewayNames = "twice-a, twice-b");
        await SeedProfiles.AddAsync(host.App, "Admins only", FixtureCatalog.Phi8Bit.RepoId, configure: p => p.StartOnDemand = false);
        var (_, browser) = await SignedInAsync();
        using var api = await host.NewClientAsync();
        var ids = (await api.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/v1/models"))!["data"]!.AsArray().Select(m => (string)m!["id"]!).ToList();

        var page = WebUtility.HtmlDecode(await browser.GetHtmlAsync("/connect"));

        ids.ShouldContain("twice-b");
        ids.ShouldNotContain("Admins only");
        ModelNames(page).ShouldBe(ids);
        Snippets(page, "python").Count.ShouldBe(ids.Count);
        Snippets(page, "js").Count.ShouldBe(ids.Count);
        page.ShouldNotContain("Admins only");
    }

    [Fact]
    public void Snippets_QuoteNames_ForTheShellAndAsJsonStrings()
    {
        var curl = ConnectSnippets.Curl("http://mac.local:5000/v1", "Bob's \"fast\" model");

        curl.ShouldContain("""-d '{"model": "Bob'\''s \"fast\" model", "stream": true""");
        ConnectSnippets.Python("http://mac.local:5000/v1", "qwen").ShouldContain("""base_url="http://mac.local:5000/v1", api_key=os.environ["MLXM_API_KEY"]""");
        ConnectSnippets.JavaScript("http://mac.local:5000/v1", "qwen").ShouldContain("""apiKey: process.env.MLXM_API_KEY""");
    }

    private async Task<(MlxManager.Core.Accounts.AppUser User, AppClient Browser)> SignedInAsync()
    {
        var email = $"connect-{Guid.NewGuid():N}@example.com";
        var user = await host.App.CreateUserAsync(email);
        var browser = new AppClient(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = host.BaseUrl,
        });
        await browser.SignInAsync(email);
        return (user, browser);
    }

    private static List<string> ModelNames(string page) =>
        ModelAttribute().Matches(page).Select(m => m.Groups[1].Value).ToList();

    private static List<string> Snippets(string page, string language) =>
        new Regex($"""data-testid="snippet-{language}">(.*?)</code>""", RegexOptions.Singleline).Matches(page)
            .Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();

    private static async Task<(int Exit, string Output)> RunBashAsync(string script, string key)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["MLXM_API_KEY"] = key;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await output + await error);
    }

    [GeneratedRegex("""data-testid="connect-model" data-model="([^"]*)""")]
    private static partial Regex ModelAttribute();
}
