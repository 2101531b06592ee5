using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Chat.Tools;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace MlxManager.Core.Tests.Chat;

/// <summary>
/// The built-in tools hosted by the official MCP SDK exactly as the web app hosts them (<c>WithTools&lt;BuiltInChatTools&gt;()</c>),
/// over an in-memory stream transport instead of HTTP, with a real MCP client connected to it.
/// </summary>
internal sealed class InProcessMcpServer : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessMcpServer(IHost host, McpClient client)
    {
        _host = host;
        Client = client;
    }

    public McpClient Client { get; }

    public static Task<InProcessMcpServer> StartAsync() => StartAsync<BuiltInChatTools>();

    /// <summary>A server offering the tools of <typeparamref name="TTools"/> (a <c>[McpServerToolType]</c> class).</summary>
    public static async Task<InProcessMcpServer> StartAsync<TTools>()
    {
        var clientToServer = new Pipe();
        var serverToClient = new Pipe();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.Services
            .AddMcpServer()
            .WithStreamServerTransport(clientToServer.Reader.AsStream(), serverToClient.Writer.AsStream())
            .WithTools<TTools>();
        var host = builder.Build();
        await host.StartAsync();

        var client = await McpClient.CreateAsync(
            new StreamClientTransport(clientToServer.Writer.AsStream(), serverToClient.Reader.AsStream(), NullLoggerFactory.Instance));
        return new InProcessMcpServer(host, client);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _host.StopAsync();
        _host.Dispose();
    }
}
