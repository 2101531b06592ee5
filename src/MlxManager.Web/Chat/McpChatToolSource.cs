using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MlxManager.Core.Accounts;
using MlxManager.Core.Chat;
using MlxManager.Core.Data;
using ModelContextProtocol.Client;

namespace MlxManager.Web.Chat;

/// <summary>
/// Connects a turn's MCP clients: the app's own <c>/mcp</c> (Streamable HTTP on the app's loopback address,
/// authenticated as the user with a short-lived token) first, then every enabled server an admin added.
/// </summary>
public sealed partial class McpChatToolSource(
    IServiceScopeFactory scopes,
    IServer server,
    IHttpClientFactory httpClients,
    ChatToolTokens tokens,
    IDataProtectionProvider protection,
    IOptions<ChatOptions> options,
    ILoggerFactory loggers) : IChatToolSource
{
    /// <summary>Name of the HTTP client the MCP transports use.</summary>
    public const string HttpClientName = "mcp";

    /// <summary>Data-protection purpose of stored MCP bearer tokens.</summary>
    public const string TokenPurpose = "MlxManager.Chat.McpServerToken";

    /// <summary>Where the app's own MCP endpoint is mapped.</summary>
    public const string SelfPath = "/mcp";

    private readonly ILogger _logger = loggers.CreateLogger<McpChatToolSource>();

    public async Task<ChatToolConnection> ConnectAsync(string userId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByIdAsync(userId) ?? throw new InvalidOperationException("The account no longer exists.");
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var registered = await db.McpServers.AsNoTracking().Where(s => s.Enabled).OrderBy(s => s.Id).ToListAsync(cancellationToken);

        var clients = new List<McpClient>();
        var problems = new List<string>();
        var self = await TryConnectAsync("MLX Manager tools", SelfEndpoint(), tokens.Issue(user), problems, cancellationToken);
        if (self is not null)
        {
            clients.Add(self);
        }

        var protector = protection.CreateProtector(TokenPurpose);
        foreach (var registration in registered)
        {
            string? bearer = null;
            if (registration.ProtectedBearerToken is { Length: > 0 } stored)
            {
                try
                {
                    bearer = protector.Unprotect(stored);
                }
                catch (System.Security.Cryptography.CryptographicException ex)
                {
                    LogTokenUnreadable(_logger, registration.Name, ex);
                    problems.Add($"The token of the tool server {registration.Name} can no longer be read; an admin must enter it again.");
                    continue;
                }
            }

            if (!Uri.TryCreate(registration.Url, UriKind.Absolute, out var url))
            {
                problems.Add($"The tool server {registration.Name} has an invalid URL.");
                continue;
            }

            var client = await TryConnectAsync(registration.Name, url, bearer, problems, cancellationToken);
            if (client is not null)
            {
                clients.Add(client);
            }
        }

        var executor = new McpToolExecutor(clients, loggers.CreateLogger<McpToolExecutor>(), options.Value.ToolTimeout);
        return new ChatToolConnection(executor, problems, clients);
    }

    /// <summary>The app's own MCP endpoint on a loopback address Kestrel listens on.</summary>
    public Uri SelfEndpoint()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The app listens on no address, so its MCP endpoint cannot be reached.");
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "localhost" or "[::]" or "::")
        {
            uri.Host = "127.0.0.1";
        }

        uri.Path = SelfPath;
        return uri.Uri;
    }

    private async Task<McpClient?> TryConnectAsync(string name, Uri endpoint, string? bearer, List<string> problems, CancellationToken cancellationToken)
    {
        var transportOptions = new HttpClientTransportOptions
        {
            Endpoint = endpoint,
            Name = name,
            TransportMode = HttpTransportMode.StreamableHttp,
            ConnectionTimeout = options.Value.ToolTimeout,
        };
        if (bearer is not null)
        {
            transportOptions.AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + bearer };
        }

        var transport = new HttpClientTransport(transportOptions, httpClients.CreateClient(HttpClientName), loggers, ownsHttpClient: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.ToolTimeout);
        try
        {
            return await McpClient.CreateAsync(transport, new McpClientOptions(), loggers, timeout.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogConnectFailed(_logger, name, endpoint, ex);
            problems.Add($"The tool server {name} could not be reached: {ex.Message}");
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not connect to the MCP server {Name} at {Endpoint}")]
    private static partial void LogConnectFailed(ILogger logger, string name, Uri endpoint, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored token of the MCP server {Name} could not be decrypted")]
    private static partial void LogTokenUnreadable(ILogger logger, string name, Exception exception);
}
