using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Chat;

/// <summary>
/// Posts a chat completion request to a running engine and streams the normalised events back. Register it as a
/// typed HTTP client with no overall timeout (answers can take minutes; Stop cancels them):
/// <c>services.AddHttpClient&lt;EngineChatClient&gt;(c =&gt; c.Timeout = Timeout.InfiniteTimeSpan)</c>.
/// </summary>
public sealed partial class EngineChatClient
{
    private readonly HttpClient _http;
    private readonly ChatStreamReader _reader;
    private readonly ILogger<EngineChatClient> _logger;

    /// <summary>Creates the client.</summary>
    public EngineChatClient(HttpClient http, ChatStreamReader reader, ILogger<EngineChatClient> logger)
    {
        _http = http;
        _reader = reader;
        _logger = logger;
    }

    /// <summary>
    /// Sends <paramref name="body"/> to <paramref name="chatCompletionsUrl"/> (e.g.
    /// <c>http://127.0.0.1:8080/v1/chat/completions</c>, built from the server's own host and port, never from user
    /// input) and yields the stream's events. An unreachable engine becomes an <see cref="EngineError"/>; Stop
    /// (<paramref name="cancellationToken"/>) closes the connection, which makes the engine stop generating.
    /// </summary>
    public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(
        Uri chatCompletionsUrl,
        ChatRequestBody body,
        ThinkingStart thinkingStart = ThinkingStart.InAnswer,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatCompletionsUrl);
        ArgumentNullException.ThrowIfNull(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, chatCompletionsUrl) { Content = body.ToHttpContent() };
        request.Headers.Accept.ParseAdd("text/event-stream");
        var (response, error) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            yield return new EngineError(error!);
            yield return new StreamEnded(false);
            yield break;
        }

        using (response)
        {
            await foreach (var e in _reader.ReadAsync(response, thinkingStart, cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
    }

    private async Task<(HttpResponseMessage? Response, string? Error)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return (response, null);
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(_logger, request.RequestUri, ex);
            return (null, $"The engine at {request.RequestUri?.GetLeftPart(UriPartial.Authority)} could not be reached: {ex.Message}");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The engine at {Url} could not be reached")]
    private static partial void LogUnreachable(ILogger logger, Uri? url, Exception exception);
}
