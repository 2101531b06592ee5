using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace MlxManager.Core.Chat;

/// <summary>
/// <see cref="IToolExecutor"/> over one or more connected MCP servers (the manager's own and any an admin added):
/// lists their tools side by side and routes each call to the server that offers it. The caller creates and
/// disposes the <see cref="McpClient"/>s.
/// </summary>
public sealed partial class McpToolExecutor : IToolExecutor
{
    private readonly IReadOnlyList<McpClient> _clients;
    private readonly ILogger<McpToolExecutor> _logger;
    private readonly TimeSpan _callTimeout;
    private Dictionary<string, McpClient>? _owners;

    /// <summary>
    /// Creates an executor over <paramref name="clients"/>; earlier clients win when two offer the same tool name.
    /// A call that takes longer than <paramref name="callTimeout"/> (default: no limit) is abandoned and reported
    /// to the model as failed.
    /// </summary>
    public McpToolExecutor(IReadOnlyList<McpClient> clients, ILogger<McpToolExecutor> logger, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _clients = clients;
        _logger = logger;
        _callTimeout = callTimeout is { } t && t > TimeSpan.Zero ? t : Timeout.InfiniteTimeSpan;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ToolDefinition>> ListToolsAsync(CancellationToken cancellationToken)
    {
        var owners = new Dictionary<string, McpClient>(StringComparer.Ordinal);
        var definitions = new List<ToolDefinition>();
        foreach (var client in _clients)
        {
            IList<McpClientTool> tools;
            try
            {
                tools = await client.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is McpException or HttpRequestException or IOException)
            {
                // One unreachable tool server must not take the others (or the chat) down with it.
                LogListFailed(_logger, ex);
                continue;
            }

            foreach (var tool in tools)
            {
                if (!owners.TryAdd(tool.Name, client))
                {
                    LogDuplicateTool(_logger, tool.Name);
                    continue;
                }

                definitions.Add(new ToolDefinition(tool.Name, tool.Description, tool.JsonSchema));
            }
        }

        _owners = owners;
        return definitions;
    }

    /// <inheritdoc />
    public async ValueTask<ToolExecutionResult> ExecuteAsync(ToolCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (_owners is null || !_owners.ContainsKey(call.Name))
        {
            await ListToolsAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!_owners!.TryGetValue(call.Name, out var client))
        {
            return ToolExecutionResult.Failure($"There is no tool named '{call.Name}'. Available: {string.Join(", ", _owners.Keys)}.");
        }

        Dictionary<string, object?> arguments;
        try
        {
            arguments = ParseArguments(call.Arguments);
        }
        catch (JsonException ex)
        {
            return ToolExecutionResult.Failure($"The arguments are not a valid JSON object: {ex.Message}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_callTimeout);
        try
        {
            var result = await client.CallToolAsync(call.Name, arguments, cancellationToken: timeout.Token).ConfigureAwait(false);
            return new ToolExecutionResult(DescribeContent(result), result.IsError == true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ToolExecutionResult.Failure(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The tool '{call.Name}' did not answer within {(_callTimeout.TotalSeconds >= 1 ? $"{_callTimeout.TotalSeconds:0.#} s" : $"{_callTimeout.TotalMilliseconds:0} ms")}."));
        }
        catch (Exception ex) when (ex is McpException or HttpRequestException or IOException)
        {
            LogCallFailed(_logger, call.Name, ex);
            return ToolExecutionResult.Failure(ex.Message);
        }
    }

    private static Dictionary<string, object?> ParseArguments(string json)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
        {
            return arguments;
        }

        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("Expected a JSON object.");
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            arguments[property.Name] = property.Value.Clone();
        }

        return arguments;
    }

    private static string DescribeContent(CallToolResult result)
    {
        var text = new StringBuilder();
        foreach (var block in result.Content)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(block switch
            {
                TextContentBlock t => t.Text,
                ImageContentBlock i => $"[image {i.MimeType}]",
                AudioContentBlock a => $"[audio {a.MimeType}]",
                _ => $"[{block.Type}]",
            });
        }

        if (text.Length == 0 && result.StructuredContent is { } structured)
        {
            text.Append(structured.GetRawText());
        }

        return text.ToString();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listing the tools of an MCP server failed")]
    private static partial void LogListFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Two MCP servers offer a tool named {Tool}; the first one is used")]
    private static partial void LogDuplicateTool(ILogger logger, string tool);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The MCP call to {Tool} failed")]
    private static partial void LogCallFailed(ILogger logger, string tool, Exception exception);
}
