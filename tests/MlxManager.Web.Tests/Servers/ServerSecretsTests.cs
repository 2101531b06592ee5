using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Profiles;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Servers;

/// <summary>A profile's environment values (tokens) stay with admins: members see the variables' names only.</summary>
public sealed class ServerSecretsTests(ProfilesApp app) : IClassFixture<ProfilesApp>
{
    private const string Secret = "hf_web_secret_0123456789";

    [Fact]
    public async Task AMembersServersPage_AndTheRunLog_ShowTheNameOnly_WhileTheAdminsProfileFormShowsTheValue()
    {
        var supervisor = app.Services.GetRequiredService<ServerSupervisor>();
        var profile = await SeedProfiles.AddAsync(app, "With a token", FixtureCatalog.QwenThinking.RepoId,
            configure: p => p.EnvironmentVariables = EngineWorld.FastEngine + $"\nHF_TOKEN={Secret}");
        (await supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var ready = await supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45));
        ready!.State.ShouldBe(ServerState.Ready, ready.Detail);
        using var member = await app.SignedInAsync(admin: false);
        using var admin = await app.SignedInAsync();

        var page = WebUtility.HtmlDecode(await member.GetHtmlAsync("/servers"));
        var live = WebUtility.HtmlDecode(await member.GetHtmlAsync("/servers?handler=Live"));
        var lines = WebUtility.HtmlDecode(await member.GetHtmlAsync($"/servers?handler=LogLines&id={profile.Id}&after=0"));
        var download = await member.Http.GetStringAsync($"/servers?handler=Log&id={profile.Id}");
        var form = WebUtility.HtmlDecode(await admin.GetHtmlAsync($"/profiles/{profile.Id}/edit"));

        page.ShouldContain("HF_TOKEN=***", customMessage: "the tile's title shows the command with the name");
        foreach (var seen in new[] { page, live, lines, download })
        {
            seen.ShouldNotContain(Secret);
        }

        download.ShouldContain("HF_TOKEN=*** ");
        form.ShouldContain($"HF_TOKEN={Secret}", customMessage: "the admin's form keeps the value to edit it");
        await supervisor.StopServerAsync(profile.Id, CancellationToken.None);
    }
}
