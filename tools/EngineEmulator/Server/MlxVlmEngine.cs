using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Models;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>mlx_vlm.server: FastAPI on uvicorn. <c>/health</c> reports <c>loaded_model</c> (null until a model is
/// in memory), <c>loaded_context_size</c>, <c>loaded_tool_parser</c>…; reasoning as <c>reasoning_content</c> plus
/// the deprecated alias <c>reasoning</c>; chunks carry <c>timings</c>. As the real one, it loads the model in the lifespan
/// before listening (the port refuses connections meanwhile), and a failed start-up load ends the process with
/// uvicorn's status 3; <c>EMULATOR_START_MODE=listen-first</c> listens first and loads behind (so <c>loaded_model</c>
/// is observable as null).</summary>
public sealed class MlxVlmEngine(EngineRuntime runtime)
{
    static readonly string AppPy = PythonPaths.Package("mlx_vlm/server/app.py");
    EngineConsole Log => runtime.Console;
    const int StartupFailureExitCode = 3;

    static readonly PythonFrame[] LifespanFrames =
    [
        new(AppPy, 360, "lifespan", "get_cached_model(model_path, adapter_path, model_kind=\"text_generation\")"),
        new(AppPy, 812, "get_cached_model", "model, processor = load(model_path, adapter_path, **load_kwargs)"),
        new(PythonPaths.Package("mlx_vlm/utils.py"), 520, "load", "model = load_model(model_path, lazy, **kwargs)"),
    ];

    public async Task<int> RunAsync()
    {
        var options = runtime.Options;
        UvicornApp.Started(Log);
        if (runtime.StartMode == StartMode.LoadFirst && !await LoadStartupAsync())
            return StartupFailureExitCode;

        await using var app = KestrelHost.Build(options.Host, options.Port,
            context => Log.UvicornAccess($"{KestrelHost.ClientAddress(context)}:{context.Connection.RemotePort}", KestrelHost.RequestLine(context), context.Response.StatusCode));
        app.Use(async (context, next) =>
        {
            context.Response.Headers["Server"] = $"mlx_vlm/{EngineRuntime.MlxVlmVersion}";
            await next(context);
        });
        app.MapGet("/health", HealthAsync);
        app.MapGet("/v1/models", ModelsAsync);
        app.MapGet("/models", ModelsAsync);
        app.MapPost("/v1/chat/completions", ChatAsync);
        app.MapPost("/chat/completions", ChatAsync);
        app.MapPost("/unload", UnloadAsync);
        app.MapGet("/metrics", MetricsAsync);
        app.MapFallback(context => UvicornApp.DetailAsync(context, 404, "Not Found"));

        if (!await KestrelHost.TryStartAsync(app))
        {
            UvicornApp.BindFailed(Log, options.Host, options.Port);
            return 1;
        }
        if (runtime.StartMode == StartMode.LoadFirst)
        {
            UvicornApp.Running(Log, options.Host, options.Port);
            await app.WaitForShutdownAsync();
            UvicornApp.Stopped(Log);
            return 0;
        }

        UvicornApp.Running(Log, options.Host, options.Port);
        var shutdown = app.WaitForShutdownAsync();
        var load = LoadStartupAsync();
        if (await Task.WhenAny(shutdown, load) == load && !await load)
        {
            await app.StopAsync();
            return StartupFailureExitCode;
        }
        await shutdown;
        UvicornApp.Stopped(Log);
        return 0;
    }

    async Task<bool> LoadStartupAsync()
    {
        if (runtime.Options.Model is not { } model)
        {
            await runtime.Slot.LoadStartupAsync(null);
            return true;
        }
        Log.PythonLog("INFO", $"Pre-loading language model: {model}");
        try
        {
            await runtime.Slot.LoadStartupAsync(model);
            Log.PythonLog("INFO", "Language model ready, continuous batching enabled.");
            return true;
        }
        catch (PythonException e)
        {
            if (e.PythonMessage.StartsWith("Model type", StringComparison.Ordinal)) Log.PythonLog("ERROR", e.PythonMessage);
            UvicornApp.StartupFailed(Log, e, LifespanFrames);
            return false;
        }
    }

    bool Authorized(HttpContext context) =>
        runtime.Options.ApiKey is not { } key || context.Request.Headers.Authorization.ToString() == $"Bearer {key}";

    Task UnauthorizedAsync(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return UvicornApp.DetailAsync(context, 401, "Invalid API key");
    }

    async Task HealthAsync(HttpContext context)
    {
        if (!Authorized(context))
        {
            await UnauthorizedAsync(context);
            return;
        }
        var model = runtime.Slot.Current;
        await UvicornApp.JsonAsync(context, 200, new JsonObject
        {
            ["status"] = "healthy",
            ["loaded_model"] = model?.Requested,
            ["loaded_adapter"] = null,
            ["loaded_models"] = model is null ? new JsonObject() : new JsonObject
            {
                ["text_generation"] = new JsonObject { ["model"] = model.Requested, ["adapter"] = null, ["model_kind"] = "text_generation" },
            },
            ["loaded_context_size"] = model?.Folder.ContextLength,
            ["configured_context_limit"] = null,
            ["effective_context_limit"] = model?.Folder.ContextLength,
            ["loaded_tool_parser"] = model is null ? null : model.Folder.ToolParserType ?? (model.Folder.SupportsTools ? "json_tools" : null),
            ["continuous_batching_enabled"] = model is not null,
            ["apc_enabled"] = false,
        });
    }

    async Task ModelsAsync(HttpContext context)
    {
        if (!Authorized(context))
        {
            await UnauthorizedAsync(context);
            return;
        }
        var data = new JsonArray();
        foreach (var repo in runtime.HfCache.Scan())
        {
            var hasWeights = repo.MainFiles.Contains("model.safetensors.index.json") || repo.MainFiles.Any(f => f.EndsWith(".safetensors", StringComparison.Ordinal));
            if (repo.MainSnapshot is null || !hasWeights || !repo.MainFiles.Contains("config.json") || !repo.MainFiles.Contains("tokenizer_config.json")) continue;
            data.Add(new JsonObject { ["id"] = repo.RepoId, ["object"] = "model", ["created"] = repo.LastModified.ToUnixTimeSeconds() });
        }
        if (runtime.Slot.Current is { } loaded && data.All(m => m?["id"]?.GetValue<string>() != loaded.Requested))
            data.Add(new JsonObject { ["id"] = loaded.Requested, ["object"] = "model", ["created"] = runtime.UnixNow });
        await UvicornApp.JsonAsync(context, 200, new JsonObject { ["object"] = "list", ["data"] = data });
    }

    async Task UnloadAsync(HttpContext context)
    {
        var current = runtime.Slot.Current;
        if (current is null)
        {
            await UvicornApp.JsonAsync(context, 200, new JsonObject { ["status"] = "no_model_loaded", ["message"] = "No model is currently loaded" });
            return;
        }
        await runtime.Slot.UnloadAsync();
        await UvicornApp.JsonAsync(context, 200, new JsonObject { ["status"] = "success", ["message"] = $"Model {current.Requested} unloaded successfully" });
    }

    Task MetricsAsync(HttpContext context) =>
        UvicornApp.JsonAsync(context, 200, new JsonObject
        {
            ["server"] = new JsonObject { ["loaded_model"] = runtime.Slot.Current?.Requested, ["request_queue_depth"] = 0 },
        });

    async Task ChatAsync(HttpContext context)
    {
        if (!Authorized(context))
        {
            await UnauthorizedAsync(context);
            return;
        }
        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject
                ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            await UvicornApp.DetailAsync(context, 422, new JsonArray(new JsonObject
            {
                ["type"] = "json_invalid", ["loc"] = new JsonArray("body", 0), ["msg"] = "JSON decode error", ["input"] = new JsonObject(), ["ctx"] = new JsonObject { ["error"] = e.Message },
            }));
            return;
        }
        if (body["model"] is not JsonValue modelValue || !modelValue.TryGetValue<string>(out var requested))
        {
            await UvicornApp.MissingFieldAsync(context, "model", body);
            return;
        }
        if (body["messages"] is not JsonArray)
        {
            await UvicornApp.MissingFieldAsync(context, "messages", body);
            return;
        }
        var chat = ChatRequest.Parse(body);

        LoadedModel model;
        try
        {
            model = await ModelForAsync(requested, context.RequestAborted);
        }
        catch (PythonException e)
        {
            Log.PythonLog("ERROR", $"Failed to load model {requested}: {e.PythonMessage}");
            await UvicornApp.DetailAsync(context, e.PythonType.Contains("LocalEntryNotFound", StringComparison.Ordinal) || e.PythonType.Contains("Validation", StringComparison.Ordinal) ? 404 : 500,
                e.PythonType.Contains("LocalEntryNotFound", StringComparison.Ordinal) || e.PythonType.Contains("Validation", StringComparison.Ordinal)
                    ? $"Model not found: '{requested}' is not a known Hugging Face repo or local path"
                    : $"Failed to load model: {e.PythonMessage}");
            return;
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return;
        }

        if (!model.Folder.HasVisionConfig && chat.Messages.Any(m => m.Media.Count > 0))
        {
            await UvicornApp.DetailAsync(context, 400, $"Model {model.Requested} has no vision tower: image and video inputs are not supported by this model.");
            return;
        }

        var thinkingEnabled = chat.EnableThinking ?? runtime.Options.EnableThinking;
        var thinking = !model.Folder.SupportsThinking ? ThinkingOutput.None
            : model.Folder.Thinking == ThinkingMarkup.InlineClosingOnly ? ThinkingOutput.InlineClosingOnly
            : !thinkingEnabled ? ThinkingOutput.None
            : model.Folder.Thinking == ThinkingMarkup.InlineTags ? ThinkingOutput.InlineTags : ThinkingOutput.Parsed;
        var tools = chat.Tools.Count > 0 && model.Folder.SupportsTools ? ToolOutput.Parsed : ToolOutput.Ignored;

        ChatTurn turn;
        try
        {
            turn = await ChatTurn.BuildAsync(runtime, chat, model, thinking, tools, context.RequestServices.GetRequiredService<IHttpClientFactory>(),
                usePromptCache: false, context.RequestAborted);
        }
        catch (MediaProblemException e)
        {
            await UvicornApp.DetailAsync(context, 400, e.Message);
            return;
        }
        Log.PythonLog("DEBUG", $"chat/completions request: model={requested} images={turn.Media.Count(m => m.Kind == "image")} audio={turn.Media.Count(m => m.Kind == "audio")} videos={turn.Media.Count(m => m.Kind == "video")} max_tokens={turn.MaxTokens} stream={chat.Stream}");
        await new MlxVlmResponse(runtime, context, turn, requested).WriteAsync();
    }

    /// <summary>The request's <c>model</c> decides: the loaded one is reused, any other is loaded in its place.</summary>
    async Task<LoadedModel> ModelForAsync(string requested, CancellationToken cancellationToken)
    {
        var startup = await runtime.Slot.Startup.WaitAsync(cancellationToken);
        if (runtime.Slot.Current is { } current && (current.Requested == requested || (startup is not null && requested == runtime.Options.Model && current == startup)))
            return current;
        if (runtime.Slot.Current is not null) Log.PythonLog("INFO", "New text_generation model requested; clearing its existing cache.");
        Log.PythonLog("INFO", $"Loading model: {requested}");
        return await runtime.Slot.SwitchToAsync(requested);
    }
}
