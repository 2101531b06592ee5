using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MlxManager.Core.Tests.Chat;

/// <summary>What the scripted engine answers to one request.</summary>
internal sealed record EngineReply(
    IReadOnlyList<string> Pieces,
    int Status = 200,
    string ContentType = "text/event-stream",
    bool AbortAfterPieces = false,
    TimeSpan? HangAfterPieces = null);

/// <summary>
/// A real HTTP server on loopback that stands in for an engine's /v1/chat/completions: records every request
/// (body and whether it had a Content-Length) and answers with scripted SSE pieces, each written and flushed
/// separately so they cross the network as separate reads.
/// </summary>
internal sealed class ScriptedEngine : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<int, JsonElement, EngineReply> _script;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    public ScriptedEngine(Func<int, JsonElement, EngineReply> script)
    {
        _script = script;
        var port = FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUrl.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    public Uri ChatCompletionsUrl => new(BaseUrl, "v1/chat/completions");

    public List<JsonDocument> Requests { get; } = [];

    public List<bool> RequestsHadContentLength { get; } = [];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
            // The listener was closed under a pending GetContextAsync: that is how it stops.
        }

        foreach (var request in Requests)
        {
            request.Dispose();
        }

        _stop.Dispose();
    }

    public static string Chunk(string deltaJson, string? finishReason = null) =>
        $"data: {{\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{deltaJson},\"finish_reason\":{(finishReason is null ? "null" : $"\"{finishReason}\"")}}}]}}\n\n";

    public static string Content(string text, string? finishReason = null) =>
        Chunk($"{{\"content\":{JsonSerializer.Serialize(text)}}}", finishReason);

    public static string WholeToolCall(int index, string id, string name, string argumentsJson) =>
        Chunk($"{{\"content\":\"\",\"tool_calls\":[{{\"function\":{{\"name\":\"{name}\",\"arguments\":{JsonSerializer.Serialize(argumentsJson)}}},\"type\":\"function\",\"id\":\"{id}\",\"index\":{index}}}]}}");

    public const string Done = "data: [DONE]\n\n";

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (HttpListenerException) when (_stop.IsCancellationRequested)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var document = JsonDocument.Parse(body);
            int index;
            lock (Requests)
            {
                Requests.Add(document);
                RequestsHadContentLength.Add(context.Request.ContentLength64 == Encoding.UTF8.GetByteCount(body)
                    && context.Request.Headers["Transfer-Encoding"] is null);
                index = Requests.Count - 1;
            }

            await ReplyAsync(context, _script(index, document.RootElement));
        }
    }

    private async Task ReplyAsync(HttpListenerContext context, EngineReply reply)
    {
        var response = context.Response;
        try
        {
            response.StatusCode = reply.Status;
            response.ContentType = reply.ContentType;
            response.SendChunked = true;
            foreach (var piece in reply.Pieces)
            {
                var bytes = Encoding.UTF8.GetBytes(piece);
                await response.OutputStream.WriteAsync(bytes, _stop.Token);
                await response.OutputStream.FlushAsync(_stop.Token);
            }

            if (reply.AbortAfterPieces)
            {
                response.Abort(); // the engine crashed: the connection drops mid-stream
                return;
            }

            if (reply.HangAfterPieces is { } hang)
            {
                await Task.Delay(hang, _stop.Token);
            }

            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away (Stop) or the test is over: nothing left to answer.
            response.Abort();
        }
    }
}
