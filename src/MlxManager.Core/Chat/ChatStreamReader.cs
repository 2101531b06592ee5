using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Chat;

/// <summary>
/// Reads an engine's chat completion response and yields normalised <see cref="ChatStreamEvent"/>s:
/// thinking in every shape, answer text, tool calls, prefill progress, usage, timings, finish, errors.
/// The last event is always <see cref="StreamEnded"/>. Cancellation (the user's Stop) propagates as
/// <see cref="OperationCanceledException"/>; everything else the engine does wrong becomes an
/// <see cref="EngineError"/> event.
/// </summary>
public sealed partial class ChatStreamReader
{
    private const int ReadBufferBytes = 16 * 1024;
    private const int MaxErrorBodyBytes = 64 * 1024;
    private const int MaxJsonBodyBytes = 64 * 1024 * 1024;

    private readonly ILogger<ChatStreamReader> _logger;
    private readonly int _maxLineBytes;

    /// <summary>Creates a reader (stateless; register it as a singleton).</summary>
    /// <param name="logger">Logger for skipped chunks and lost connections.</param>
    /// <param name="maxLineBytes">Longest accepted SSE event; a longer one ends the stream with an error.</param>
    public ChatStreamReader(ILogger<ChatStreamReader> logger, int maxLineBytes = 32 * 1024 * 1024)
    {
        _logger = logger;
        _maxLineBytes = maxLineBytes;
    }

    /// <summary>
    /// Reads a response to <c>POST /v1/chat/completions</c>. A non-2xx status becomes one <see cref="EngineError"/>
    /// carrying the engine's message; a JSON (non-streamed) answer is normalised like a stream.
    /// The caller owns (and disposes) the response.
    /// </summary>
    public async IAsyncEnumerable<ChatStreamEvent> ReadAsync(
        HttpResponseMessage response,
        ThinkingStart thinkingStart = ThinkingStart.InAnswer,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var parser = NewParser(thinkingStart);
        var output = new List<ChatStreamEvent>();
        if (!response.IsSuccessStatusCode)
        {
            var (body, readError) = await ReadLimitedAsync(response.Content, MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
            var message = ErrorMessageReader.Read(body) is { Length: > 0 } m ? m
                : body.Length > 0 ? ErrorMessageReader.DescribeRaw(body)
                : readError ?? $"{(int)response.StatusCode} {response.ReasonPhrase}";
            parser.Fail(DescribeStatus(response.StatusCode, message), output, (int)response.StatusCode);
            parser.Complete(output);
            foreach (var e in output)
            {
                yield return e;
            }

            yield break;
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            var (body, readError) = await ReadLimitedAsync(response.Content, MaxJsonBodyBytes, cancellationToken).ConfigureAwait(false);
            if (readError is not null)
            {
                parser.Fail(readError, output);
            }
            else
            {
                parser.FeedCompletionJson(body, output);
            }

            parser.Complete(output);
            foreach (var e in output)
            {
                yield return e;
            }

            yield break;
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var e in ReadAsync(stream, parser, cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
    }

    /// <summary>Reads an SSE body stream (the caller owns the stream).</summary>
    public IAsyncEnumerable<ChatStreamEvent> ReadAsync(
        Stream body,
        ThinkingStart thinkingStart = ThinkingStart.InAnswer,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ReadAsync(body, NewParser(thinkingStart), cancellationToken);
    }

    private async IAsyncEnumerable<ChatStreamEvent> ReadAsync(
        Stream body,
        ChatStreamParser parser,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        var output = new List<ChatStreamEvent>();
        try
        {
            while (!parser.IsEnded)
            {
                var (read, error) = await ReadOnceAsync(body, buffer, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    parser.Fail(error, output);
                    parser.Complete(output);
                }
                else if (read == 0)
                {
                    parser.Complete(output);
                }
                else
                {
                    parser.Feed(buffer.AsSpan(0, read), output);
                    if (parser.SawDoneMarker || parser.HasFailed)
                    {
                        parser.Complete(output);
                    }
                }

                foreach (var e in output)
                {
                    yield return e;
                }

                output.Clear();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ChatStreamParser NewParser(ThinkingStart thinkingStart) => new(thinkingStart, _maxLineBytes, _logger);

    private async Task<(int Read, string? Error)> ReadOnceAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return (await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), null);
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogConnectionLost(_logger, ex);
            return (0, "The connection to the engine was lost mid-answer: " + ex.Message);
        }
    }

    private async Task<(byte[] Body, string? Error)> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var memory = new MemoryStream();
                var buffer = new byte[8192];
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    var room = limit - (int)memory.Length;
                    memory.Write(buffer, 0, Math.Min(read, room));
                    if (read >= room)
                    {
                        break;
                    }
                }

                return (memory.ToArray(), null);
            }
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogConnectionLost(_logger, ex);
            return ([], "The connection to the engine was lost: " + ex.Message);
        }
    }

    private static string DescribeStatus(HttpStatusCode status, string message) => status switch
    {
        HttpStatusCode.NotFound => $"The engine does not serve this endpoint or model (404): {message}",
        HttpStatusCode.LengthRequired => $"The engine requires a Content-Length (411): {message}",
        HttpStatusCode.ServiceUnavailable => $"The engine is not ready or out of memory (503): {message}",
        _ => $"The engine answered {(int)status}: {message}",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The connection to the engine was lost while reading its answer")]
    private static partial void LogConnectionLost(ILogger logger, Exception exception);
}
