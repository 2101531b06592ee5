using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Profiles;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Servers;

/// <summary>/servers over HTTP: start/stop handlers, the live fragment, log lines and download, the event stream.</summary>
public sealed class ServersPageTests(ProfilesApp app) : IClassFixture<ProfilesApp>
{
    private ServerSupervisor Supervisor => app.Services.GetRequiredService<ServerSupervisor>();

    [Fact]
    public async Task StartStop_ThroughThePage_ShowTheServerGoingReadyAndAway()
    {
        using var client = await app.SignedInAsync();
        var profile = await SeedProfiles.AddAsync(app, "Page started", FixtureCatalog.LlamaTools.RepoId);

        var start = await client.HtmxPostAsync("/servers?handler=Start", "/servers", new Dictionary<string, string> { ["profileId"] = Id(profile.Id) });

        start.StatusCode.ShouldBe(HttpStatusCode.OK);
        var answer = WebUtility.HtmlDecode(await start.Content.ReadAsStringAsync());
        answer.ShouldContain("id=\"server-action-message\" hx-swap-oob=\"true\"");
        answer.ShouldContain("Started \"Page started\"");
        answer.ShouldContain($"id=\"server-tile-{profile.Id}\"");
        var ready = await Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45));
        ready!.State.ShouldBe(ServerState.Ready);

        var live = WebUtility.HtmlDecode(await client.GetHtmlAsync("/servers?handler=Live"));
        live.ShouldContain($"<span id=\"server-state-{profile.Id}\" class=\"state-badge state-ready\" data-testid=\"server-state\">ready</span>");
        live.ShouldContain($"<dd data-testid=\"pid\">{ready.Process!.Value.Pid}");
        live.ShouldContain("action=\"/chat?handler=New\"");
        live.ShouldContain($"<input type=\"hidden\" name=\"serverId\" value=\"{profile.Id}\"");
        live.ShouldContain("id=\"system-memory\"");

        var stop = await client.HtmxPostAsync($"/servers?handler=Stop&id={profile.Id}", "/servers");
        WebUtility.HtmlDecode(await stop.Content.ReadAsStringAsync()).ShouldContain("Stopped \"Page started\".");
        Supervisor.Find(profile.Id)!.State.ShouldBe(ServerState.Stopped);
    }

    [Fact]
    public async Task LogLines_AreHtmlEncoded_AndTheWholeLogDownloads()
    {
        using var client = await app.SignedInAsync();
        var profile = await SeedProfiles.AddAsync(app, "<b>bold</b> & co", FixtureCatalog.Phi8Bit.RepoId);
        await Supervisor.StartServerAsync(profile.Id, CancellationToken.None);
        await Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45));

        var lines = await client.GetAsync($"/servers?handler=LogLines&id={profile.Id}&after=0");
        var download = await client.GetAsync($"/servers?handler=Log&id={profile.Id}");

        lines.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await lines.Content.ReadAsStringAsync();
        html.ShouldContain("Starting the server of &quot;&lt;b&gt;bold&lt;/b&gt; &amp; co&quot;");
        html.ShouldNotContain("<b>bold</b>");
        html.ShouldContain("class=\"log-line log-manager\" data-seq=\"1\"");
        lines.Headers.GetValues("X-Log-Last").Single().ShouldNotBe("0");
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        var file = await download.Content.ReadAsStringAsync();
        file.ShouldContain(" * Starting the server of \"<b>bold</b> & co\"");
        file.ShouldContain(" * Ready: answered a one-token completion");
        await Supervisor.StopServerAsync(profile.Id, CancellationToken.None);
    }

    [Fact]
    public async Task Events_RingWithATickAtOnce()
    {
        using var client = await app.SignedInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/servers/events");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        using var response = await client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));

        (await reader.ReadLineAsync(timeout.Token)).ShouldBe("event: tick");
        (await reader.ReadLineAsync(timeout.Token)).ShouldNotBeNull().ShouldStartWith("data: ");
    }

    [Fact]
    public async Task DeleteProfile_WhileItsServerRuns_AsksFirst_ThenStopsTheServerAndDeletes()
    {
        using var client = await app.SignedInAsync();
        var profile = await SeedProfiles.AddAsync(app, "Doomed", FixtureCatalog.QwenThinking.RepoId);
        await Supervisor.StartServerAsync(profile.Id, CancellationToken.None);
        var ready = await Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45));
        var pid = ready!.Process!.Value.Pid;

        var question = WebUtility.HtmlDecode(await client.GetHtmlAsync($"/profiles/{profile.Id}/delete"));
        question.ShouldContain("Its server is ready");
        question.ShouldContain("Deleting the profile stops that server first");
        question.ShouldContain("Stop the server and delete");
        (await SeedProfiles.FindAsync(app, "Doomed")).ShouldNotBeNull("asking deletes nothing");

        var unconfirmed = await client.PostFormAsync($"/profiles/{profile.Id}/delete", new Dictionary<string, string> { ["stopServer"] = "false" }, $"/profiles/{profile.Id}/delete");
        unconfirmed.StatusCode.ShouldBe(HttpStatusCode.OK);
        WebUtility.HtmlDecode(await unconfirmed.Content.ReadAsStringAsync()).ShouldContain("Its server is running. Confirm that it may be stopped.");

        var confirmed = await client.PostFormAsync($"/profiles/{profile.Id}/delete", new Dictionary<string, string> { ["stopServer"] = "true" }, $"/profiles/{profile.Id}/delete");

        confirmed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await SeedProfiles.FindAsync(app, "Doomed")).ShouldBeNull();
        Supervisor.Find(profile.Id).ShouldBeNull();
        Directory.Exists($"/proc/{pid}").ShouldBeFalse("the server was stopped before its profile was deleted");
        WebUtility.HtmlDecode(await client.GetHtmlAsync("/profiles")).ShouldContain("Stopped its server and deleted the profile \"Doomed\".");
    }

    private static string Id(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
