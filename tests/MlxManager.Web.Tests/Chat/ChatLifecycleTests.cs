using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Data;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>A host for tests that stop, crash or wait for servers; each test starts the servers it needs.</summary>
public sealed class LifecycleHost : ChatHost;

/// <summary>Stop, crash mid-answer, a loading server, a failed one (BUGFIX-06), history and privacy.</summary>
public sealed class ChatLifecycleTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    [Fact]
    public async Task Stop_AbortsTheAnswer_KeepsThePartText_AndTheConversationGoesOn()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, id: 31),
            new Dictionary<string, string> { ["EMULATOR_TOKEN_RATE"] = "20" });
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);
        var turnId = await user.SendAsync(conversation, "Write a long essay [[tokens:2000]]");
        var stopped = false;

        var turn = await user.ReadTurnAsync(turnId, async e =>
        {
            if (e.Type == "answer" && !stopped)
            {
                stopped = true;
                (await user.StopAsync(conversation, turnId)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
            }
        }, TimeSpan.FromSeconds(30));

        turn.Outcome.ShouldBe("stopped", turn.Describe());
        (turn.Events[^1].At - turn.OfType("answer").First().At).ShouldBeLessThan(TimeSpan.FromSeconds(5), "2000 tokens at 20 tok/s would take 100 s");
        var saved = await user.LastAnswerAsync(conversation);
        saved.Incomplete.ShouldBeTrue();
        saved.Content.Length.ShouldBeGreaterThan(0);
        saved.Content.Split(' ').Length.ShouldBeLessThan(2000);

        var next = await user.TurnAsync(conversation, "Short one [[tokens:3]]");
        next.Outcome.ShouldBe("answered", next.Describe());
    }

    [Fact]
    public async Task StopWhileToolsConnect_BeforeTheFirstToken_IsANormalStop()
    {
        // A tool server that accepts connections and never answers: the turn waits on it (up to ToolTimeout) before
        // the engine is asked anything, so the stop surely comes before the first token.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var registration = new McpServerRegistration
        {
            Name = "silent",
            Url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/mcp",
            CreatedAtUtc = DateTime.UtcNow,
        };
        await using (var scope = host.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.McpServers.Add(registration);
            await db.SaveChangesAsync();
        }

        try
        {
            var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.LlamaTools, MlxLmServer.EngineKey, "tools stop", id: 40));
            using var user = await host.NewUserAsync();
            var conversation = await user.NewConversationAsync(server.ServerId);
            var turnId = await user.SendAsync(conversation, "Hello [[tokens:3]]");

            (await user.StopAsync(conversation, turnId)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
            var turn = await user.ReadTurnAsync(turnId);

            turn.Outcome.ShouldBe("stopped", turn.Describe());
            turn.Error.ShouldBeNull(turn.Describe());
            turn.OfType("answer").ShouldBeEmpty();
            (await user.SavedMessagesAsync(conversation)).ShouldAllBe(m => m.Role == ConversationRole.User);
        }
        finally
        {
            await using var scope = host.App.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.McpServers.Remove(registration);
            await db.SaveChangesAsync();
        }
    }

    [Fact]
    public async Task CrashMidAnswer_KeepsThePartialAnswerMarkedIncomplete_AndSaysWhyNextTime()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "crashing", id: 32));
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);

        var turn = await user.TurnAsync(conversation, "Please [[crash]]");

        turn.Outcome.ShouldBe("failed", turn.Describe());
        turn.OfType("failure").ShouldNotBeEmpty();
        var saved = await user.LastAnswerAsync(conversation);
        saved.Incomplete.ShouldBeTrue();
        saved.Error.ShouldNotBeNull();
        if (turn.OfType("answer").Any())
        {
            // The engine dies 3 tokens in; whatever reached the manager before is kept.
            saved.Content.ShouldNotBeEmpty();
            turn.LastAnswerHtml.ShouldContain(saved.Content.Split(' ')[0]);
        }

        await Eventually.TrueAsync(() => host.Servers.FindAsync(server.ServerId, default).AsTask().Result?.State == ChatServerState.Failed, TimeSpan.FromSeconds(20));
        var after = await user.TurnAsync(conversation, "Are you there?");
        after.Outcome.ShouldBe("failed");
        after.Error.ShouldNotBeNull().ShouldContain("failed");
        after.Error!.ShouldContain("exit status 134");
        var page = await user.App.GetHtmlAsync($"/chat/{conversation}");
        page.ShouldContain("exit status 134");
        page.ShouldContain("Incomplete");
    }

    [Fact]
    public async Task LoadingServer_TheChatSaysSoAndWaits_ThenAnswers()
    {
        var slow = FixtureCatalog.Sized(FixtureCatalog.LlamaTools with { RepoId = "mlx-community/Slow-Llama-4bit" }, 24 * 1024 * 1024);
        HfCacheWriter.Write(host.Servers.CacheRoot, slow);
        host.Servers.Register(slow);
        using var user = await host.NewUserAsync();
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(slow, MlxLmServer.EngineKey, "slow", id: 33),
            new Dictionary<string, string> { ["EMULATOR_LOAD_RATE"] = "6M" }, waitUntilReady: false);
        var conversation = await user.NewConversationAsync(server.ServerId);
        (await user.App.GetHtmlAsync($"/chat/{conversation}")).ShouldMatch("status-pending\">(starting|loading the model)");

        var turn = await user.TurnAsync(conversation, "Hello [[tokens:5]]");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        turn.OfType("status").First().Data.GetProperty("kind").GetString().ShouldBe("waiting");
        turn.OfType("status").First().Data.GetProperty("text").GetString()!.ShouldContain("slow");
        turn.OfType("status").ShouldContain(e => e.Data.GetProperty("kind").GetString() == "ready");
        (await user.LastAnswerAsync(conversation)).Content.Split(' ').Length.ShouldBe(5);
    }

    [Fact]
    public async Task FailedServer_TheChatSaysWhy()
    {
        using var user = await host.NewUserAsync();
        // Importing takes 3 s as on a Mac, so the conversation is opened while the server is still starting.
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Unsupported, MlxLmServer.EngineKey, "broken", id: 34),
            new Dictionary<string, string> { ["EMULATOR_START_MODE"] = "load-first", ["EMULATOR_IMPORT_SECONDS"] = "3" }, waitUntilReady: false);
        var conversation = await user.NewConversationAsync(server.ServerId);

        var turn = await user.TurnAsync(conversation, "Hello");

        turn.Outcome.ShouldBe("failed", turn.Describe());
        turn.Error.ShouldNotBeNull().ShouldContain("The server of broken failed");
        turn.Error!.ShouldContain("Model type frobnicator not supported");
        (await user.App.GetHtmlAsync($"/chat/{conversation}")).ShouldContain("Model type frobnicator not supported");
    }

    [Fact]
    public async Task FailedServer_NewConversation_IsRefusedWithTheReason()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Unsupported, MlxLmServer.EngineKey, "broken early", id: 38),
            new Dictionary<string, string> { ["EMULATOR_START_MODE"] = "load-first" }, waitUntilReady: false);
        await Eventually.TrueAsync(() => host.Servers.FindAsync(server.ServerId, default).AsTask().Result?.State == ChatServerState.Failed, TimeSpan.FromSeconds(30));
        using var user = await host.NewUserAsync();

        var response = await user.App.PostFormAsync("/chat?handler=New", new Dictionary<string, string> { ["serverId"] = server.ServerId.ToString() }, "/chat");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.OriginalString.ShouldBe("/chat");
        var page = await user.App.GetHtmlAsync("/chat");
        page.ShouldContain("That server failed:");
        page.ShouldContain("Model type frobnicator not supported");
        (await user.App.GetHtmlAsync("/chat")).ShouldNotContain("That server failed:", Case.Sensitive, "the message is shown once");
    }

    [Fact]
    public async Task Conversations_ArePrivate_ToTheirOwner()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.GemmaVision, MlxVlmServer.EngineKey, id: 35));
        using var alice = await host.NewUserAsync();
        using var bob = await host.NewUserAsync();
        var conversation = await alice.NewConversationAsync(server.ServerId);
        var turnId = await alice.SendAsync(conversation, "Secret plans [[tokens:3]]", ("plan.png", "image/png", Media.Png(16, 16)));
        await alice.ReadTurnAsync(turnId);
        var attachment = (await alice.SavedMessagesAsync(conversation))[0].Attachments.Single();

        (await bob.App.GetAsync($"/chat/{conversation}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.GetAsync($"/chat/{conversation}?handler=Messages")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.GetAsync($"/chat/attachments/{attachment.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.GetAsync($"/chat/turns/{turnId}/events")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await bob.App.GetHtmlAsync("/chat")).ShouldNotContain("Secret plans");
        (await bob.PostMessageAsync(conversation, "hi")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await alice.App.GetHtmlAsync("/chat")).ShouldContain("Secret plans");
    }

    [Fact]
    public async Task AnotherUsersConversation_Is404ForEveryHandler_AndItsRunningAnswerGoesOn()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "private", id: 39),
            new Dictionary<string, string> { ["EMULATOR_TOKEN_RATE"] = "30" });
        using var alice = await host.NewUserAsync();
        using var bob = await host.NewUserAsync();
        var conversation = await alice.NewConversationAsync(server.ServerId);
        var turnId = await alice.SendAsync(conversation, "Alice's essay [[tokens:120]]");
        var bobsOwn = await bob.NewConversationAsync(server.ServerId);
        var bobsPage = $"/chat/{bobsOwn}";

        // While Alice's answer runs, Bob tries every handler on her conversation: each is a 404 that changes nothing.
        (await bob.PostMessageAsync(conversation, "hi")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "409 would tell Bob an answer is running");
        (await bob.App.PostFormAsync($"/chat/{conversation}?handler=Delete", new Dictionary<string, string>(), bobsPage)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.PostFormAsync($"/chat/{conversation}?handler=Rename", new Dictionary<string, string> { ["title"] = "Bob was here" }, bobsPage)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.PostFormAsync($"/chat/{conversation}?handler=Settings", new Dictionary<string, string> { ["systemPrompt"] = "Bob's prompt" }, bobsPage)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.PostFormAsync($"/chat/{conversation}?handler=Stop&turnId={turnId}", new Dictionary<string, string>(), bobsPage)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.PostFormAsync($"/chat/{bobsOwn}?handler=Stop&turnId={turnId}", new Dictionary<string, string>(), bobsPage)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.GetAsync($"/chat/{conversation}?handler=ServerStatus")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await bob.App.GetAsync($"/chat/turns/{turnId}/events")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var turn = await alice.ReadTurnAsync(turnId);
        turn.Outcome.ShouldBe("answered", turn.Describe());
        (await alice.LastAnswerAsync(conversation)).Content.Split(' ').Length.ShouldBe(120);
        var page = await alice.App.GetHtmlAsync($"/chat/{conversation}");
        page.ShouldContain("Alice&#x27;s essay");
        page.ShouldNotContain("Bob was here");
        page.ShouldNotContain("Bob&#x27;s prompt");
    }

    [Fact]
    public async Task Conversations_CanBeRenamedAndDeleted()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "rename", id: 36));
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);
        await user.TurnAsync(conversation, "First message [[tokens:3]]");

        (await user.App.PostFormAsync($"/chat/{conversation}?handler=Rename", new Dictionary<string, string> { ["title"] = "Renamed chat" }, $"/chat/{conversation}"))
            .StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await user.App.GetHtmlAsync("/chat")).ShouldContain("Renamed chat");
        (await user.App.PostFormAsync($"/chat/{conversation}?handler=Delete", new Dictionary<string, string>(), $"/chat/{conversation}"))
            .StatusCode.ShouldBe(HttpStatusCode.Redirect);

        (await user.App.GetAsync($"/chat/{conversation}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await user.SavedMessagesAsync(conversation)).ShouldBeEmpty();
    }

    [Fact]
    public async Task SystemPrompt_ProfileDefaultIsSent_UntilTheConversationEditsIt_AndRequestDefaultsApply()
    {
        var profile = EmulatedServers.ProfileFor(FixtureCatalog.GemmaVision, MlxVlmServer.EngineKey, "prompted", id: 37);
        profile.SystemPrompt = "You are a pirate.";
        profile.Temperature = 0.3;
        profile.TopK = 20;
        var server = await host.Servers.StartAsync(profile);
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);
        (await user.App.GetHtmlAsync($"/chat/{conversation}")).ShouldContain("You are a pirate.");

        var first = await user.EchoAsync(conversation, "[[echo]]");
        first.GetProperty("messages")[0].GetProperty("role").GetString().ShouldBe("system");
        first.GetProperty("messages")[0].GetProperty("content").GetString().ShouldBe("You are a pirate.");
        first.GetProperty("temperature").GetDouble().ShouldBe(0.3);
        first.GetProperty("top_k").GetInt32().ShouldBe(20);
        first.GetProperty("request_model").GetString().ShouldBe(FixtureCatalog.GemmaVision.RepoId);

        (await user.App.PostFormAsync($"/chat/{conversation}?handler=Settings",
            new Dictionary<string, string> { ["systemPrompt"] = "You are a poet.", ["thinking"] = "true", ["tools"] = "true" }, $"/chat/{conversation}"))
            .StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var edited = await user.EchoAsync(conversation, "[[echo]] again");
        edited.GetProperty("messages")[0].GetProperty("content").GetString().ShouldBe("You are a poet.");
    }
}

/// <summary>History outlives the app: a new host on the same data folder shows the conversation.</summary>
public sealed class ChatHistoryTests
{
    [Fact]
    public async Task History_IsSaved_AndReloadedByANewHostOnTheSameDataFolder()
    {
        using var folder = new TestDataFolder();
        await using var servers = new EmulatedServers([FixtureCatalog.QwenThinking]);
        int conversation;
        string email;
        var first = new ChatHost(MlxManagerFactory.OnFolder(folder), servers);
        await first.InitializeAsync();
        try
        {
            var server = await servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxLmServer.EngineKey, "history", id: 41));
            using var user = await first.NewUserAsync();
            email = "chat-user-1@example.com";
            conversation = await user.NewConversationAsync(server.ServerId);
            (await user.TurnAsync(conversation, "What is 12*7?")).Outcome.ShouldBe("answered");
        }
        finally
        {
            // The Kestrel-hosted factory does not always release the data-folder lock on dispose; let go of it first.
            first.App.Services.GetRequiredService<DataFolderLock>().Dispose();
            await first.App.DisposeAsync();
        }

        await using var second = MlxManagerFactory.OnFolder(folder);
        using var client = second.CreateAppClient();
        await client.SignInAsync(email);
        var page = await client.GetHtmlAsync($"/chat/{conversation}");

        page.ShouldContain("What is 12*7?");
        page.ShouldContain("data-testid=\"tool-bubble\"");
        page.ShouldContain("The calculate tool returned: &quot;84&quot;");
        page.ShouldContain("Thought for");
        page.ShouldContain("tok/s");
        (await client.GetHtmlAsync("/chat")).ShouldContain("What is 12*7?");
    }
}
