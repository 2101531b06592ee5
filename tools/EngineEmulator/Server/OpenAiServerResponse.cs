using System.Text;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>Writes one mlx-openai-server chat completion: <c>json.dumps(model_dump(exclude_none=True))</c> bodies,
/// id <c>chatcmpl_&lt;hex&gt;</c>, a role-only first chunk, content / <c>reasoning_content</c> chunks, tool calls as
/// OpenAI-style fragments (default) or whole per chunk (<c>EMULATOR_TOOL_CALL_CHUNKS=whole</c>, as the real
/// parsers emit them), then a final chunk with an empty delta, the finish reason and — always — the usage.</summary>
public sealed class OpenAiServerResponse(EngineRuntime runtime, HttpContext context, ChatTurn turn, string model)
{
    readonly string id = "chatcmpl_" + Guid.NewGuid().ToString("N");
    readonly long created = runtime.UnixNow;

    ToolCallChunking Chunking => runtime.Settings.ToolCallChunking ?? ToolCallChunking.Fragments;

    string ToolCallId() => $"call_{runtime.UnixNow}{Random.Shared.Next(0, 1_000_000):D6}";

    public async Task WriteAsync()
    {
        var stream = turn.Request.Stream;
        context.Response.StatusCode = 200;
        context.Response.ContentType = stream ? "text/event-stream; charset=utf-8" : "application/json";
        if (stream)
        {
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            await SendAsync(Chunk(new JsonObject { ["role"] = "assistant" }, null));
        }

        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new List<JsonObject>();
        var ids = new Dictionary<int, string>();
        GenerationFinished? finished = null;
        try
        {
            await foreach (var e in turn.RunAsync(runtime, context.RequestAborted))
            {
                switch (e)
                {
                    case ReasoningDelta r:
                        reasoning.Append(r.Text);
                        if (stream) await SendAsync(Chunk(new JsonObject { ["role"] = "assistant", ["reasoning_content"] = r.Text }, null));
                        break;
                    case ContentDelta c:
                        content.Append(c.Text);
                        if (stream) await SendAsync(Chunk(new JsonObject { ["content"] = c.Text, ["role"] = "assistant" }, null));
                        break;
                    case ToolCallOpened o when stream && Chunking == ToolCallChunking.Fragments:
                        ids[o.Call.Index] = ToolCallId();
                        await SendAsync(Chunk(new JsonObject
                        {
                            ["role"] = "assistant",
                            ["tool_calls"] = new JsonArray(new JsonObject
                            {
                                ["index"] = o.Call.Index,
                                ["id"] = ids[o.Call.Index],
                                ["function"] = new JsonObject { ["arguments"] = "", ["name"] = o.Call.Name },
                                ["type"] = "function",
                            }),
                        }, null));
                        break;
                    case ToolCallArguments a when stream && Chunking == ToolCallChunking.Fragments:
                        await SendAsync(Chunk(new JsonObject
                        {
                            ["role"] = "assistant",
                            ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = a.Call.Index, ["function"] = new JsonObject { ["arguments"] = a.Text } }),
                        }, null));
                        break;
                    case ToolCallClosed c when stream && Chunking == ToolCallChunking.Whole:
                        await SendAsync(Chunk(new JsonObject
                        {
                            ["role"] = "assistant",
                            ["tool_calls"] = new JsonArray(new JsonObject
                            {
                                ["index"] = c.Call.Index,
                                ["id"] = ToolCallId(),
                                ["function"] = new JsonObject { ["arguments"] = c.Call.Arguments, ["name"] = c.Call.Name },
                                ["type"] = "function",
                            }),
                        }, null));
                        break;
                    case ToolCallClosed c:
                        calls.Add(new JsonObject
                        {
                            ["id"] = ToolCallId(),
                            ["type"] = "function",
                            ["function"] = new JsonObject { ["name"] = c.Call.Name, ["arguments"] = c.Call.Arguments },
                            ["index"] = c.Call.Index,
                        });
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

        var usage = new JsonObject
        {
            ["prompt_tokens"] = finished.PromptTokens,
            ["total_tokens"] = finished.PromptTokens + finished.CompletionTokens,
            ["completion_tokens"] = finished.CompletionTokens,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = finished.CachedTokens },
        };
        if (stream)
        {
            var final = Chunk(new JsonObject(), finished.FinishReason);
            final["usage"] = usage;
            await SendAsync(final);
            await SendRawAsync("data: [DONE]\n\n");
            return;
        }

        var message = new JsonObject { ["content"] = content.Length > 0 ? content.ToString() : null, ["role"] = "assistant" };
        if (reasoning.Length > 0) message["reasoning_content"] = reasoning.ToString();
        if (calls.Count > 0) message["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode)c).ToArray());
        message["partial"] = false;
        if (message["content"] is null) message.Remove("content");
        var body = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["finish_reason"] = finished.FinishReason, ["index"] = 0, ["message"] = message }),
            ["usage"] = usage,
        };
        await context.Response.WriteAsync(PythonJson.Dumps(body), context.RequestAborted);
    }

    JsonObject Chunk(JsonObject delta, string? finishReason)
    {
        var choice = new JsonObject { ["delta"] = delta };
        if (finishReason is not null) choice["finish_reason"] = finishReason;
        choice["index"] = 0;
        return new JsonObject
        {
            ["id"] = id,
            ["choices"] = new JsonArray(choice),
            ["created"] = created,
            ["model"] = model,
            ["object"] = "chat.completion.chunk",
        };
    }

    Task SendAsync(JsonObject chunk) => SendRawAsync($"data: {PythonJson.Dumps(chunk)}\n\n");

    async Task SendRawAsync(string text)
    {
        await context.Response.WriteAsync(text, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
