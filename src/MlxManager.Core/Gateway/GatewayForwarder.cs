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
    /// such as mlx_lm's <c>: keepalive</c>, blank event ends, <c>[DONE]</c>) is copied byte for byte.
    /// </summary>
    public static async Task RelayEventsAsync(Stream upstream, Stream client, Func<CancellationToken, Task> flush, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(upstream);
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                var wrote = false;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    await WriteLineAsync(client, line.IsSingleSegment ? line.First : line.ToArray(), cancellationToken).ConfigureAwait(false);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    wrote = true;
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

    private static async Task WriteLineAsync(Stream client, ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
    {
        var text = line.Span.EndsWith("\r"u8) ? line[..^1] : line;
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
