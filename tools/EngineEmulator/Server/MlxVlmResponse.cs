using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>Writes one mlx_vlm.server chat completion in its pydantic shapes (compact JSON, every field present,
/// nulls included): content and <c>reasoning_content</c> + <c>reasoning</c> per token with
/// <c>timings.predicted_per_second</c>; tool calls either whole in the final chunk (the real server) or as
/// OpenAI-style fragments (<c>EMULATOR_TOOL_CALL_CHUNKS</c>, default fragments); the usage chunk carries full
/// timings with <c>prompt_n</c>, <c>predicted_n</c>, <c>prompt_per_second</c>, <c>predicted_per_second</c> and
/// <c>peak_memory</c> in GB.</summary>
public sealed class MlxVlmResponse(EngineRuntime runtime, HttpContext context, ChatTurn turn, string requestedModel)
{
    readonly string id = "chatcmpl-" + Guid.NewGuid();
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan? firstToken;
    TimeSpan prefillTime;
    int tokens;

    ToolCallChunking Chunking => runtime.Settings.ToolCallChunking ?? ToolCallChunking.Fragments;

    double? Rate => firstToken is { } first && tokens > 1 && clock.Elapsed > first ? (tokens - 1) / (clock.Elapsed - first).TotalSeconds : null;

    public async Task WriteAsync()
    {
        var stream = turn.Request.Stream;
        context.Response.StatusCode = 200;
        context.Response.ContentType = stream ? "text/event-stream; charset=utf-8" : "application/json";
        if (stream) await context.Response.Body.FlushAsync(context.RequestAborted);

        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new List<JsonObject>();
        var arguments = new Dictionary<int, StringBuilder>();
        GenerationFinished? finished = null;
        try
        {
            await foreach (var e in turn.RunAsync(runtime, context.RequestAborted))
            {
                if (e is ReasoningDelta or ContentDelta or ToolCallOpened or ToolCallArguments or ToolCallClosed)
                {
                    tokens++;
                    firstToken ??= clock.Elapsed;
                }
                switch (e)
                {
                    case PrefillProgress { Done: var d, Total: var t } when d == t:
                        prefillTime = clock.Elapsed;
                        break;
                    case ReasoningDelta r:
                        reasoning.Append(r.Text);
                        if (stream) await SendAsync(Chunk(Message(null, r.Text, null), null, Streaming()));
                        break;
                    case ContentDelta c:
                        content.Append(c.Text);
                        if (stream) await SendAsync(Chunk(Message(c.Text, null, null), null, Streaming()));
                        break;
                    case ToolCallOpened o when stream && Chunking == ToolCallChunking.Fragments:
                        await SendAsync(Chunk(Message(null, null, [new JsonObject
                        {
                            ["index"] = o.Call.Index,
                            ["id"] = Guid.NewGuid().ToString(),
                            ["type"] = "function",
                            ["function"] = new JsonObject { ["name"] = o.Call.Name, ["arguments"] = "" },
                        }]), null, Streaming()));
                        break;
                    case ToolCallArguments a when stream && Chunking == ToolCallChunking.Fragments:
                        await SendAsync(Chunk(Message(null, null, [new JsonObject
                        {
                            ["index"] = a.Call.Index,
                            ["function"] = new JsonObject { ["arguments"] = a.Text },
                        }]), null, Streaming()));
                        break;
                    case ToolCallArguments a:
                        (arguments.TryGetValue(a.Call.Index, out var sb) ? sb : arguments[a.Call.Index] = new StringBuilder()).Append(a.Text);
                        break;
                    case ToolCallClosed c:
                        calls.Add(new JsonObject
                        {
                            ["type"] = "function",
                            ["index"] = c.Call.Index,
                            ["id"] = Guid.NewGuid().ToString(),
                            ["function"] = new JsonObject { ["name"] = c.Call.Name, ["arguments"] = c.Call.Arguments },
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

        if (stream)
        {
            if (calls.Count > 0 && Chunking == ToolCallChunking.Whole)
                await SendAsync(Chunk(Message(null, null, [.. calls]), "tool_calls", Streaming()));
            else
                await SendAsync(Chunk(Message(null, null, null), finished.FinishReason, Streaming()));
            if (turn.Request.IncludeUsage)
            {
                var usage = new JsonObject
                {
                    ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = runtime.UnixNow, ["model"] = requestedModel,
                    ["choices"] = new JsonArray(), ["usage"] = Usage(finished), ["timings"] = Timings(finished),
                };
                await SendRawAsync($"data: {PythonJson.Compact(usage)}\n\n");
            }
            await SendRawAsync("data: [DONE]\n\n");
            return;
        }

        var choice = new JsonObject
        {
            ["index"] = 0,
            ["finish_reason"] = finished.FinishReason,
            ["message"] = Message(content.ToString(), reasoning.Length > 0 ? reasoning.ToString() : null, calls.Count > 0 ? [.. calls] : null),
            ["logprobs"] = null,
        };
        var body = new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion", ["created"] = runtime.UnixNow, ["model"] = requestedModel,
            ["choices"] = new JsonArray(choice), ["usage"] = Usage(finished), ["timings"] = Timings(finished),
        };
        await context.Response.WriteAsync(PythonJson.Compact(body), context.RequestAborted);
    }

    static JsonObject Message(string? content, string? reasoning, JsonObject[]? toolCalls) => new()
    {
        ["role"] = "assistant",
        ["content"] = content,
        ["reasoning_content"] = reasoning,
        ["reasoning"] = reasoning,
        ["tool_calls"] = toolCalls is null ? null : new JsonArray(toolCalls.Select(c => (JsonNode)c).ToArray()),
        ["tool_call_id"] = null,
        ["name"] = null,
    };

    JsonObject Streaming() => new() { ["predicted_per_second"] = Rate };

    JsonObject Chunk(JsonObject delta, string? finishReason, JsonObject timings) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = runtime.UnixNow,
        ["model"] = requestedModel,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["finish_reason"] = finishReason, ["delta"] = delta, ["logprobs"] = null }),
        ["usage"] = null,
        ["timings"] = timings,
    };

    static JsonObject Usage(GenerationFinished f) => new()
    {
        ["prompt_tokens"] = f.PromptTokens,
        ["completion_tokens"] = f.CompletionTokens,
        ["total_tokens"] = f.PromptTokens + f.CompletionTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = f.CachedTokens },
    };

    JsonObject Timings(GenerationFinished f)
    {
        var promptSeconds = Math.Max(prefillTime.TotalSeconds, 1e-6);
        var rate = Rate ?? 0.0;
        var predictedMs = rate > 0 ? f.CompletionTokens / rate * 1000 : 0;
        var promptN = f.PromptTokens - f.CachedTokens;
        return new JsonObject
        {
            ["prompt_n"] = promptN,
            ["cache_n"] = f.CachedTokens,
            ["predicted_n"] = f.CompletionTokens,
            ["prompt_ms"] = promptSeconds * 1000,
            ["prompt_per_token_ms"] = promptN > 0 ? promptSeconds * 1000 / promptN : 0.0,
            ["prompt_per_second"] = promptN / promptSeconds,
            ["predicted_ms"] = predictedMs,
            ["predicted_per_token_ms"] = f.CompletionTokens > 0 ? predictedMs / f.CompletionTokens : 0.0,
            ["predicted_per_second"] = rate,
            ["peak_memory"] = Math.Round((turn.Model.WeightBytes + 150_000_000) / 1e9, 3),
            ["draft_kind"] = null,
            ["draft_rounds"] = null,
            ["draft_n"] = null,
            ["draft_n_accepted"] = null,
        };
    }

    Task SendAsync(JsonObject chunk) => SendRawAsync($"data: {PythonJson.Compact(chunk)}\n\n");

    async Task SendRawAsync(string text)
    {
        await context.Response.WriteAsync(text, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
