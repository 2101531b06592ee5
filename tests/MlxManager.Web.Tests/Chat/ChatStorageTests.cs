using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>Small limits, so a few megabytes reach them: 2 attachments of up to 8 MB (17 MB a request), 12 MB per user.</summary>
public sealed class StorageLimitsHost : ChatHost
{
    public const int MB = 1024 * 1024;

    public StorageLimitsHost()
    {
        Settings["MlxManager:Chat:MaxAttachments"] = "2";
        Settings["MlxManager:Chat:MaxVideoBytes"] = (8 * MB).ToString();
        Settings["MlxManager:Chat:MaxImageBytes"] = (4 * MB).ToString();
        Settings["MlxManager:Chat:MaxStoragePerUser"] = (12 * MB).ToString();
    }

    public int ServerId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        ServerId = (await Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenVision, MlxVlmServer.EngineKey, id: 81))).ServerId;
    }
}

/// <summary>What one request and one account may hold, and that a deleted account's files go with it.</summary>
public sealed class ChatStorageTests(StorageLimitsHost host) : IClassFixture<StorageLimitsHost>
{
    private const int MB = StorageLimitsHost.MB;

    [Fact]
    public async Task MessageAboveTheRequestLimit_Is413_NamingTheLimit_AndNothingIsSaved()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ServerId);

        var response = await user.PostMessageAsync(conversation, "Two clips", Video("a.mp4", 9 * MB), Video("b.mp4", 9 * MB));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await ErrorOf(response)).ShouldBe("The message is too large to send: at most 17 MB at once (2 attachments of up to 8 MB).");
        (await user.SavedMessagesAsync(conversation)).ShouldBeEmpty();
        (await user.TurnAsync(conversation, "Still here [[tokens:2]]")).Outcome.ShouldBe("answered");
    }

    [Fact]
    public async Task EachAccount_KeepsAtMostItsStorage_AndDeletingAConversationMakesRoom()
    {
        using var alice = await host.NewUserAsync();
        using var bob = await host.NewUserAsync();
        var first = await alice.NewConversationAsync(host.ServerId);
        var second = await alice.NewConversationAsync(host.ServerId);
        (await alice.TurnAsync(first, "One [[tokens:2]]", Video("one.mp4", 7 * MB))).Outcome.ShouldBe("answered");

        var refused = await alice.PostMessageAsync(second, "Two", Video("two.mp4", 7 * MB));

        refused.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await ErrorOf(refused)).ShouldBe("These attachments (7 MB) do not fit: your conversations already keep 7 MB of files and each account may keep 12 MB. Delete conversations you no longer need to make room.");
        (await alice.SavedMessagesAsync(second)).ShouldBeEmpty();

        var bobs = await bob.NewConversationAsync(host.ServerId);
        (await bob.TurnAsync(bobs, "Mine [[tokens:2]]", Video("bob.mp4", 7 * MB))).Outcome.ShouldBe("answered", "the storage is per account");

        (await alice.App.PostFormAsync($"/chat/{first}?handler=Delete", new Dictionary<string, string>(), $"/chat/{first}")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await alice.TurnAsync(second, "Two again [[tokens:2]]", Video("two.mp4", 7 * MB))).Outcome.ShouldBe("answered");
    }

    [Fact]
    public async Task DeletingAnAccount_DeletesTheFilesOfItsAttachments()
    {
        using var admin = await host.NewUserAsync(admin: true);
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ServerId);
        (await user.TurnAsync(conversation, "Keep this [[tokens:2]]", ("photo.png", "image/png", Media.Png(64, 48)))).Outcome.ShouldBe("answered");
        var folder = host.App.Services.GetRequiredService<DataDirectory>().PathFor("chat", conversation.ToString());
        Directory.EnumerateFiles(folder).ShouldNotBeEmpty();
        var userId = (await host.App.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().ListAsync()))
            .Single(u => u.Email == user.Email).Id;

        var deleted = await admin.App.PostFormAsync("/admin/users?handler=Delete", new Dictionary<string, string> { ["id"] = userId });

        deleted.StatusCode.ShouldBe(HttpStatusCode.OK, await deleted.Content.ReadAsStringAsync());
        (await deleted.Content.ReadAsStringAsync()).ShouldContain("was deleted");
        Directory.Exists(folder).ShouldBeFalse("the account's attachment files stay on disk otherwise");
    }

    private static (string Name, string ContentType, byte[] Data) Video(string name, int bytes)
    {
        var data = new byte[bytes];
        "ftypisom"u8.CopyTo(data.AsSpan(4));
        return (name, "video/mp4", data);
    }

    private static async Task<string?> ErrorOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
}
