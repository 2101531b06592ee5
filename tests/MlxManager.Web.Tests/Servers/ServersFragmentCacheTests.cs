using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Pages.Servers;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Profiles;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Servers;

/// <summary>
/// The live region of /servers is rendered once per tick and role and served to every page of that role: the same
/// bytes for every member, other bytes for admins, 304 for a page whose copy is current, a new render after a change.
/// The sampler's own timer is set to an hour so the test's <see cref="MetricsSampler.SampleOnceAsync"/> is the only tick.
/// </summary>
public sealed class ServersFragmentCacheTests : IClassFixture<ProfilesApp>
{
    private readonly ProfilesApp _app;

    public ServersFragmentCacheTests(ProfilesApp app)
    {
        _app = app;
        _app.Settings["MlxManager:Metrics:Interval"] = "01:00:00"; // before the host is built (first test only)
    }

    private MetricsSampler Sampler => _app.Services.GetRequiredService<MetricsSampler>();

    private ServersFragmentCache Cache => _app.Services.GetRequiredService<ServersFragmentCache>();

    [Fact]
    public async Task MembersGetTheSameBytes_RenderedOncePerTick_AndAdminsGetTheirOwn()
    {
        using var first = await _app.SignedInAsync(admin: false);
        using var second = await _app.SignedInAsync(admin: false);
        using var admin = await _app.SignedInAsync();
        await Eventually.WaitUntilAsync(() => Sampler.Latest is not null, TimeSpan.FromSeconds(30), "the sampler's first tick");
        await Sampler.SampleOnceAsync(CancellationToken.None); // a tick: both roles' fragments are stale now

        var before = Cache.Renders;
        var one = await first.Http.GetByteArrayAsync("/servers?handler=Live");
        var two = await second.Http.GetByteArrayAsync("/servers?handler=Live");
        var again = await first.Http.GetByteArrayAsync("/servers?handler=Live");
        Cache.Renders.ShouldBe(before + 1, "three member requests in one tick, one render");

        two.ShouldBe(one);
        again.ShouldBe(one);
        var adminsCopy = await admin.Http.GetByteArrayAsync("/servers?handler=Live");
        Cache.Renders.ShouldBe(before + 2, "the admin's role renders its own");
        adminsCopy.ShouldNotBe(one);
        System.Text.Encoding.UTF8.GetString(one).ShouldNotContain("__RequestVerificationToken");
        System.Text.Encoding.UTF8.GetString(one).ShouldContain("An administrator can start one.");
        System.Text.Encoding.UTF8.GetString(adminsCopy).ShouldContain("Pick a profile above and start it.");
    }

    [Fact]
    public async Task APageWhoseCopyIsCurrent_Gets304_AndAChangeInvalidatesIt()
    {
        using var member = await _app.SignedInAsync(admin: false);
        await Eventually.WaitUntilAsync(() => Sampler.Latest is not null, TimeSpan.FromSeconds(30), "the sampler's first tick");
        var first = await member.GetAsync("/servers?handler=Live");
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var tag = first.Headers.ETag.ShouldNotBeNull();
        first.Headers.CacheControl!.NoCache.ShouldBeTrue();
        first.Headers.CacheControl.Private.ShouldBeTrue();

        (await ConditionalGetAsync(member, tag)).StatusCode.ShouldBe(HttpStatusCode.NotModified);

        var supervisor = _app.Services.GetRequiredService<ServerSupervisor>();
        var profile = await SeedProfiles.AddAsync(_app, "Cached tile", FixtureCatalog.LlamaTools.RepoId);
        var before = Cache.Renders;
        (await supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var ready = await supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45));
        ready!.State.ShouldBe(ServerState.Ready, ready.Detail);

        var changed = await ConditionalGetAsync(member, tag);
        changed.StatusCode.ShouldBe(HttpStatusCode.OK, "the server's start changed the fragment");
        changed.Headers.ETag.ShouldNotBe(tag);
        Cache.Renders.ShouldBeGreaterThan(before);
        var html = WebUtility.HtmlDecode(await changed.Content.ReadAsStringAsync());
        html.ShouldContain($"id=\"server-state-{profile.Id}\" class=\"state-badge state-ready\"");

        // The tile's Chat button posts with htmx (its token in the header) and is sent on to the new conversation.
        var chat = await member.HtmxPostAsync("/chat?handler=New", "/servers", new Dictionary<string, string> { ["serverId"] = profile.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        chat.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        chat.Headers.GetValues("HX-Redirect").Single().ShouldStartWith("/chat/");

        (await supervisor.StopServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        supervisor.Dismiss(profile.Id).ShouldBeTrue("the list is empty again for the other test");
    }

    private static async Task<HttpResponseMessage> ConditionalGetAsync(AppClient client, EntityTagHeaderValue tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/servers?handler=Live");
        request.Headers.IfNoneMatch.Add(tag);
        return await client.Http.SendAsync(request);
    }
}
