using System.Text;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>Writes one mlx_lm.server completion, streamed or not, in its shapes: <c>json.dumps</c> bodies,
/// ids <c>chatcmpl-&lt;uuid4&gt;</c>, <c>system_fingerprint</c>, every chunk with <c>delta.role</c>; thinking in
/// <c>delta.reasoning</c>; each tool call whole in its own chunk (id, index, type, name, full arguments);
/// <c>: keepalive n/m</c> comments while the prompt is processed; the finish chunk, then with
/// <c>include_usage</c> a usage chunk (object <c>chat.completion</c>, empty choices), then <c>data: [DONE]</c>.</summary>
public sealed class MlxLmResponse(EngineRuntime runtime, HttpContext context, ChatTurn turn, string requestedModel, bool textCompletion)
{
    /// <summary>Marks a request whose status line was already logged (BaseHTTPRequestHandler logs on send_response,
    /// before the body is generated).</summary>
    public const string RequestLogged = "mlx_lm.request-logged";

    readonly string id = (textCompletion ? "cmpl-" : "chatcmpl-") + Guid.NewGuid();
    readonly long created = runtime.UnixNow;
    string ObjectType => textCompletion ? "text_completion" : turn.Request.Stream ? "chat.completion.chunk" : "chat.completion";

    public async Task WriteAsync()
    {
        var response = context.Response;
        var stream = turn.Request.Stream;
        response.StatusCode = 200;
        runtime.Console.BaseHttpRequestLine(KestrelHost.ClientAddress(context), KestrelHost.RequestLine(context), 200);
        context.Items[RequestLogged] = true;
        response.Headers["Server"] = "BaseHTTP/0.6 Python/3.12.8";
        response.Headers.ContentType = stream ? "text/event-stream" : "application/json";
        if (stream) response.Headers.CacheControl = "no-cache";
        response.Headers["Access-Control-Allow-Origin"] = "*";
        response.Headers["Access-Control-Allow-Methods"] = "*";
        response.Headers["Access-Control-Allow-Headers"] = "*";
        if (stream) await response.Body.FlushAsync(context.RequestAborted);

        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new List<JsonObject>();
        int toolIndex = 0;
        GenerationFinished? finished = null;
        try
        {
            await foreach (var e in turn.RunAsync(runtime, context.RequestAborted))
            {
                switch (e)
                {
                    case PrefillProgress p:
                        runtime.Console.PythonLog("INFO", $"Prompt processing progress: {p.Done}/{p.Total}");
                        if (stream) await SendAsync($": keepalive {p.Done}/{p.Total}\n\n");
                        break;
                    case ReasoningDelta r when stream:
                        await SendChunkAsync(Chunk(null, reasoning: r.Text));
                        break;
                    case ReasoningDelta r:
                        reasoning.Append(r.Text);
                        break;
                    case ContentDelta c when stream:
                        await SendChunkAsync(Chunk(null, content: c.Text));
                        break;
                    case ContentDelta c:
                        text.Append(c.Text);
                        break;
                    case ToolCallClosed t:
                        var call = new JsonObject
                        {
                            ["function"] = new JsonObject { ["name"] = t.Call.Name, ["arguments"] = t.Call.Arguments },
                            ["type"] = "function",
                            ["id"] = Guid.NewGuid().ToString(),
                        };
                        if (stream)
                        {
                            call["index"] = toolIndex++;
                            await SendChunkAsync(Chunk(null, toolCalls: [call]));
                        }
                        else calls.Add(call);
                        break;
                    case ToolCallTruncated t:
                        runtime.Console.PythonLog("WARNING", $"Failed to parse tool call (JSONDecodeError: Unterminated string starting at: line 1 column {t.Call.Name.Length + 12} (char {t.Call.Name.Length + 11})) — tool text was likely truncated mid-generation.");
                        break;
                    case GenerationFinished f:
                        finished = f;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            context.Abort();
            return;
        }
        if (finished is null) return;

        if (stream)
        {
            await SendChunkAsync(Chunk(finished.FinishReason));
            if (turn.Request.IncludeUsage)
                await SendChunkAsync(new JsonObject
                {
                    ["id"] = id,
                    ["system_fingerprint"] = EngineRuntime.SystemFingerprint,
                    ["object"] = "chat.completion",
                    ["model"] = requestedModel,
                    ["created"] = created,
                    ["choices"] = new JsonArray(),
                    ["usage"] = Usage(finished),
                });
            await SendAsync("data: [DONE]\n\n");
            return;
        }

        var body = Chunk(finished.FinishReason, content: text.ToString(), reasoning: reasoning.Length > 0 ? reasoning.ToString() : null,
            toolCalls: calls.Count > 0 ? calls : null);
        body["usage"] = Usage(finished);
        // json.dumps keeps insertion order: usage sits before choices in the real body.
        var ordered = new JsonObject();
        foreach (var key in new[] { "id", "system_fingerprint", "object", "model", "created", "choices", "usage" })
            if (body[key] is { } v) ordered[key] = v.DeepClone();
        var json = PythonJson.Dumps(ordered);
        context.Response.ContentLength = Encoding.UTF8.GetByteCount(json);
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    static JsonObject Usage(GenerationFinished f) => new()
    {
        ["prompt_tokens"] = f.PromptTokens,
        ["completion_tokens"] = f.CompletionTokens,
        ["total_tokens"] = f.PromptTokens + f.CompletionTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = f.CachedTokens },
    };

    /// <summary>generate_response: static fields, then the choice with delta (stream) or message (not).</summary>
    JsonObject Chunk(string? finishReason, string? content = null, string? reasoning = null, List<JsonObject>? toolCalls = null)
    {
        var choice = new JsonObject { ["index"] = 0, ["finish_reason"] = finishReason };
        if (textCompletion)
            choice["text"] = content ?? "";
        else
        {
            var message = new JsonObject { ["role"] = "assistant" };
            if (!turn.Request.Stream) message["content"] = string.IsNullOrEmpty(content) ? null : content;
            else if (!string.IsNullOrEmpty(content)) message["content"] = content;
            if (!string.IsNullOrEmpty(reasoning)) message["reasoning"] = reasoning;
            if (toolCalls is { Count: > 0 }) message["tool_calls"] = new JsonArray(toolCalls.Select(c => (JsonNode)c).ToArray());
            choice[turn.Request.Stream ? "delta" : "message"] = message;
        }
        return new JsonObject
        {
            ["id"] = id,
            ["system_fingerprint"] = EngineRuntime.SystemFingerprint,
            ["object"] = ObjectType,
            ["model"] = requestedModel,
            ["created"] = created,
            ["choices"] = new JsonArray(choice),
        };
    }

    Task SendChunkAsync(JsonObject chunk) => SendAsync($"data: {PythonJson.Dumps(chunk)}\n\n");

    async Task SendAsync(string text)
    {
        await context.Response.WriteAsync(text, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
