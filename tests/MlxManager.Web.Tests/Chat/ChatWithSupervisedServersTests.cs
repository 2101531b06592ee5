using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Chat;
using MlxManager.Web.Tests.Chat.Infrastructure;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>
/// The chat wired to the real server supervisor (no test directory): engines are the emulator's launchers, started
/// as detached processes by the supervisor exactly as from the Servers page.
/// </summary>
public sealed class SupervisedChatHost : ChatHost
{
    private int _admins;

    public SupervisedChatHost()
    {
        App.ConfigureServices = null;
        EngineWorld.Instance.Configure(App);
    }

    public ServerSupervisor Supervisor => App.Services.GetRequiredService<ServerSupervisor>();

    /// <summary>A new active administrator, signed in.</summary>
    public async Task<ChatClient> NewAdminAsync()
    {
        var email = $"chat-admin-{Interlocked.Increment(ref _admins)}@example.com";
        await App.CreateUserAsync(email, admin: true);
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = BaseUrl,
            Timeout = TimeSpan.FromMinutes(2),
        };
        var client = new ChatClient(new AppClient(http), App);
        await client.App.SignInAsync(email);
        return client;
    }
}

public sealed class ChatWithSupervisedServersTests(SupervisedChatHost host) : IClassFixture<SupervisedChatHost>
{
    [Fact]
    public void TheChatSeesTheSupervisor()
    {
        host.App.Services.GetRequiredService<IChatServerDirectory>().ShouldBeOfType<SupervisorChatServers>();
    }

    [Fact]
    public async Task AdminStartsAProfileFromTheChat_ItLoads_AndAnswersThroughTheSupervisedEngine()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Chat-started Qwen", FixtureCatalog.QwenThinking.RepoId);
        using var admin = await host.NewAdminAsync();

        var start = await admin.App.PostFormAsync("/chat?handler=Start", new Dictionary<string, string> { ["profileId"] = profile.Id.ToString() }, "/chat");

        start.StatusCode.ShouldBe(HttpStatusCode.Redirect, await start.Content.ReadAsStringAsync());
        var conversation = int.Parse(start.Headers.Location!.OriginalString.Split('/').Last());
        host.Supervisor.Find(profile.Id).ShouldNotBeNull().IsActive.ShouldBeTrue();

        // Sent at once: the turn waits while the engine loads, then streams.
        var turn = await admin.TurnAsync(conversation, "Hello there [[tokens:12]]");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        host.Supervisor.Find(profile.Id)!.State.ShouldBe(ServerState.Ready);
        var saved = await admin.LastAnswerAsync(conversation);
        saved.Content.ShouldNotBeNullOrWhiteSpace();
        saved.Incomplete.ShouldBeFalse();

        var chat = await host.App.Services.GetRequiredService<IChatServerDirectory>().FindAsync(profile.Id, default);
        chat.ShouldNotBeNull();
        chat.ChatCompletionsUri.ShouldBe(new Uri($"http://127.0.0.1:{profile.Port}/v1/chat/completions"));
        chat.Model.Thinking.ShouldBeTrue("detected from the Qwen3 fixture's chat template");
        chat.Model.Tools.ShouldBeTrue();

        (await host.Supervisor.StopServerAsync(profile.Id, default)).Succeeded.ShouldBeTrue();
        (await host.App.Services.GetRequiredService<IChatServerDirectory>().FindAsync(profile.Id, default))!.State.ShouldBe(ChatServerState.Stopped);
    }

    [Fact]
    public async Task AServerStartedOnTheServersPage_IsOfferedInTheChat_ToEveryUser()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Shared Llama", FixtureCatalog.LlamaTools.RepoId);
        (await host.Supervisor.StartServerAsync(profile.Id, default)).Succeeded.ShouldBeTrue();
        var ready = await host.Supervisor.WaitUntilSettledAsync(profile.Id, default).WaitAsync(TimeSpan.FromSeconds(60));
        ready!.State.ShouldBe(ServerState.Ready);
        using var user = await host.NewUserAsync();

        var page = await user.App.GetHtmlAsync("/chat");
        page.ShouldContain($"data-server-id=\"{profile.Id}\"");
        page.ShouldContain("Shared Llama");
        var conversation = await user.NewConversationAsync(profile.Id);
        var turn = await user.TurnAsync(conversation, "Hi [[tokens:5]]");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        host.App.Services.GetRequiredService<MlxManager.Core.Gateway.GatewayLanes>().LastUsed(profile.Id)
            .ShouldNotBeNull("a chat turn is use of the server for the idle unloader");
        (await host.Supervisor.StopServerAsync(profile.Id, default)).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public async Task AMember_StartsAnOnDemandProfileFromTheChat_ItLoads_AndAnswers()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "On-demand Qwen", FixtureCatalog.QwenThinking.RepoId);
        using var user = await host.NewUserAsync();

        var page = await user.App.GetHtmlAsync("/chat");
        page.ShouldContain("data-testid=\"profile-choice\"");
        page.ShouldContain("On-demand Qwen");
        var start = await user.App.PostFormAsync("/chat?handler=Start", new Dictionary<string, string> { ["profileId"] = profile.Id.ToString() }, "/chat");

        start.StatusCode.ShouldBe(HttpStatusCode.Redirect, await start.Content.ReadAsStringAsync());
        start.Headers.Location!.OriginalString.ShouldStartWith("/chat/");
        var conversation = int.Parse(start.Headers.Location!.OriginalString.Split('/').Last());
        var started = host.Supervisor.Find(profile.Id).ShouldNotBeNull();
        started.IsActive.ShouldBeTrue();
        var turn = await user.TurnAsync(conversation, "Hello [[tokens:8]]");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var ready = host.Supervisor.Find(profile.Id)!;
        ready.State.ShouldBe(ServerState.Ready);
        ready.RunId.ShouldBe(started.RunId, "one start, the one the member asked for");
        (await host.Supervisor.StopServerAsync(profile.Id, default)).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public async Task AMember_WhoseOnDemandStartIsRefused_SeesTheReason()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Missing model", "nobody/not-downloaded-4bit");
        using var user = await host.NewUserAsync();

        var start = await user.App.PostFormAsync("/chat?handler=Start", new Dictionary<string, string> { ["profileId"] = profile.Id.ToString() }, "/chat");

        start.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        start.Headers.Location!.OriginalString.ShouldBe("/chat");
        WebUtility.HtmlDecode(await user.App.GetHtmlAsync("/chat")).ShouldContain("The model \"Missing model\"");
    }

    [Fact]
    public async Task AMember_CannotStartAProfileThatDoesNotStartOnDemand()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Not for users", FixtureCatalog.Phi8Bit.RepoId, configure: p => p.StartOnDemand = false);
        using var user = await host.NewUserAsync();

        (await user.App.GetHtmlAsync("/chat")).ShouldNotContain("Not for users");
        var start = await user.App.PostFormAsync("/chat?handler=Start", new Dictionary<string, string> { ["profileId"] = profile.Id.ToString() }, "/chat");

        start.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        host.Supervisor.Find(profile.Id).ShouldBeNull();
        WebUtility.HtmlDecode(await user.App.GetHtmlAsync("/chat")).ShouldContain("\"Not for users\" does not start on demand, so only administrators can start it.");
    }
}
