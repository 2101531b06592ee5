using Microsoft.Extensions.DependencyInjection.Extensions;
using MlxManager.Core.Chat;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Chat.Tools;
using MlxManager.Core.Engines;
using MlxManager.Web.Accounts;
using MlxManager.Web.Chat;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Hosting;

/// <summary>
/// The chat: turn runner and history (Core), the engine HTTP client, the MCP server with the built-in tools at
/// <c>/mcp</c> (Streamable HTTP, stateless, signed-in active users only: session cookie or bearer token), the MCP
/// client side, the turn registry and the SSE/attachment endpoints. Settings: <c>MlxManager:Chat</c>.
/// The servers feature provides <see cref="IChatServerDirectory"/> (<see cref="SupervisorChatServers"/>, see ServersHosting).
/// </summary>
public static class ChatHosting
{
    public static WebApplicationBuilder AddChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddChatCore(builder.Configuration);
        if (!services.Any(d => d.ServiceType == typeof(EngineRegistry)))
        {
            services.AddEngines(builder.Configuration);
        }

        services.AddHttpClient<EngineChatClient>(client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHttpClient(McpChatToolSource.HttpClientName);
        services.AddSingleton<ChatToolTokens>();
        services.AddSingleton<IChatToolSource, McpChatToolSource>();
        services.AddSingleton<ChatTurns>();

        // Stateless: every tool call is one POST; no server-to-client requests are needed.
        services.AddMcpServer(options => options.ServerInfo = new() { Name = "MLX Manager", Version = "1.0" })
            .WithHttpTransport(options => options.Stateless = true)
            .WithTools<BuiltInChatTools>();
        return builder;
    }

    public static WebApplication MapChat(this WebApplication app)
    {
        app.MapMcp(McpChatToolSource.SelfPath).RequireAuthorization(AccountPolicies.ActiveUser);
        app.MapChatEndpoints();
        return app;
    }
}
