using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

public sealed class McpAdminHost : ChatHost
{
    public int ServerId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        ServerId = (await Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.LlamaTools, MlxLmServer.EngineKey, id: 61))).ServerId;
    }
}

/// <summary>Admins add MCP servers by URL (optional bearer token, stored encrypted); the chat connects to them beside its own.</summary>
public sealed class McpServersAdminTests(McpAdminHost host) : IClassFixture<McpAdminHost>
{
    [Fact]
    public async Task AddedServer_IsUsedByTheChat_AndAnUnreachableOneIsReportedWithoutBreakingTheTools()
    {
        await host.App.CreateUserAsync("mcp-admin@example.com", admin: true);
        using var admin = new ChatClient(new AppClient(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = host.BaseUrl }), host.App);
        await admin.App.SignInAsync("mcp-admin@example.com");

        var added = await admin.App.PostFormAsync("/admin/mcp-servers?handler=Add", new Dictionary<string, string>
        {
            ["Input.Name"] = "Offline tools",
            ["Input.Url"] = $"http://127.0.0.1:{EmulatedServers.FreePort()}/mcp",
            ["Input.BearerToken"] = "s3cret-token",
        }, "/admin/mcp-servers");
        added.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var page = await admin.App.GetHtmlAsync("/admin/mcp-servers");
        page.ShouldContain("Offline tools");
        page.ShouldNotContain("s3cret-token");
        var stored = await host.App.WithScopeAsync(sp => sp.GetRequiredService<AppDbContext>().McpServers.AsNoTracking().SingleAsync());
        stored.ProtectedBearerToken.ShouldNotBeNull().ShouldNotContain("s3cret-token");

        var conversation = await admin.NewConversationAsync(host.ServerId);
        var turn = await admin.TurnAsync(conversation, "What is 12*7?");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        turn.OfType("status").ShouldContain(e => e.Data.GetProperty("text").GetString()!.StartsWith("The tool server Offline tools could not be reached"));
        turn.OfType("tool-result").ShouldHaveSingleItem().Data.GetProperty("content").GetString().ShouldBe("84");
    }

    [Fact]
    public async Task InvalidUrl_IsRefused_AndOrdinaryUsersMayNotOpenThePage()
    {
        await host.App.CreateUserAsync("mcp-admin2@example.com", admin: true);
        using var admin = new AppClient(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = host.BaseUrl });
        await admin.SignInAsync("mcp-admin2@example.com");

        var response = await admin.PostFormAsync("/admin/mcp-servers?handler=Add",
            new Dictionary<string, string> { ["Input.Name"] = "Bad", ["Input.Url"] = "file:///etc/passwd" }, "/admin/mcp-servers");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Enter the server&#x27;s http(s) URL");
        using var user = await host.NewUserAsync();
        (await user.App.GetAsync("/admin/mcp-servers")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }
}
