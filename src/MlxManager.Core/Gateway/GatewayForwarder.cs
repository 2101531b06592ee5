using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Sends a client's request to the engine and relays the answer. The body is the client's JSON with only <c>model</c>
/// rewritten to the model the engine serves (<see cref="ServerSnapshot.Model"/>: mlx_lm.server would otherwise load or
/// download whatever a client names); tools, images, sampling fields and <c>stream_options</c> pass untouched. The body
/// is sent with a Content-Length (mlx_lm.server answers 411 to chunked bodies).
/// </summary>
public sealed class GatewayForwarder(HttpClient http)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();

    /// <summary>
    /// POSTs <paramref name="body"/> to <paramref name="path"/> (e.g. <c>v1/chat/completions</c>) of the server and returns
    /// once the engine's headers arrived; the body is read by the caller. Cancelling aborts the upstream request.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(ServerSnapshot server, string path, JsonObject body, CancellationToken cancellationToken)
    {
        body["model"] = server.Model.Reference;
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseUrl, path)) { Content = content };
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new GatewayException(502, "server_error", "engine_failed",
                $"The server of \"{server.Profile.Name}\" did not answer: {e.Message}");
        }
    }

    /// <summary>
    /// Copies a server-sent-event stream as it arrives: whatever complete lines a read brings are written and flushed
    /// at once (no waiting for more), <c>data:</c> payloads get <see cref="ReasoningAlias"/>, every other line (comments
    /// such as mlx_lm's <c>: keepalive</c>, blank event ends, <c>[DONE]</c>) is copied byte for byte. Each <c>data:</c>
    /// payload is first shown to <paramref name="inspect"/> (the usage meter); when it answers false, the event (its
    /// line and the blank line ending it) is not passed on.
    /// </summary>
    public static async Task RelayEventsAsync(
        Stream upstream, Stream client, Func<CancellationToken, Task> flush, CancellationToken cancellationToken, Func<ReadOnlyMemory<byte>, bool>? inspect = null)
    {
        var reader = PipeReader.Create(upstream);
        var dropping = false;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                var wrote = false;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var slice = buffer.Slice(0, end);
                    var line = slice.IsSingleSegment ? slice.First : slice.ToArray();
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (dropping && IsBlank(line))
                    {
                        dropping = false;
                        continue;
                    }

                    dropping = inspect is not null && IsData(line, out var payload) && !inspect(payload);
                    if (!dropping)
                    {
                        await WriteLineAsync(client, line, cancellationToken).ConfigureAwait(false);
                        wrote = true;
                    }
                }

                if (read.IsCompleted && !buffer.IsEmpty)
                {
                    await client.WriteAsync(buffer.ToArray(), cancellationToken).ConfigureAwait(false);
                    buffer = buffer.Slice(buffer.End);
                    wrote = true;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (wrote)
                {
                    await flush(cancellationToken).ConfigureAwait(false);
                }

                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static ReadOnlyMemory<byte> WithoutCr(ReadOnlyMemory<byte> line) => line.Span.EndsWith("\r"u8) ? line[..^1] : line;

    private static bool IsBlank(ReadOnlyMemory<byte> line) => WithoutCr(line).IsEmpty;

    private static bool IsData(ReadOnlyMemory<byte> line, out ReadOnlyMemory<byte> payload)
    {
        var text = WithoutCr(line);
        payload = text.Span.StartsWith(DataPrefix) ? text[DataPrefix.Length..] : default;
        return text.Span.StartsWith(DataPrefix);
    }

    private static async Task WriteLineAsync(Stream client, ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
    {
        var text = WithoutCr(line);
        if (text.Span.StartsWith(DataPrefix) && ReasoningAlias.Rewrite(text.Span[DataPrefix.Length..]) is { } rewritten)
        {
            await client.WriteAsync(DataPrefix, cancellationToken).ConfigureAwait(false);
            await client.WriteAsync(rewritten, cancellationToken).ConfigureAwait(false);
            await client.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            return;
        }

        await client.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        await client.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
    }
}
