using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Models;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>mlx-openai-server <c>launch</c>: FastAPI on uvicorn with loguru output; the model is loaded in a
/// spawned handler process (so its memory belongs to a child) during the lifespan, before uvicorn listens, and a failed
/// load ends the process with status 1 (<c>EMULATOR_START_MODE=listen-first</c> listens first, as its multi-model mode
/// does: <c>/health</c> answers 503 <c>unhealthy</c> until the model is loaded, then 200). Reasoning as
/// <c>reasoning_content</c> only with <c>--reasoning-parser</c>, tool calls parsed only with <c>--tool-call-parser</c>
/// (otherwise the model's raw text reaches the content).</summary>
public sealed class OpenAiServerEngine(EngineRuntime runtime)
{
    const string TextModelAlias = "local-text-model";
    EngineConsole Log => runtime.Console;
    string ServedName => runtime.Options.ServedModelName ?? runtime.Options.Model!;
    bool Ready => runtime.Slot.Current is not null;

    public async Task<int> RunAsync()
    {
        var options = runtime.Options;
        Banner();
        Log.Loguru("INFO", "app.server:setup_server:604", $"Starting server on {options.Host}:{options.Port}");
        Log.Loguru("INFO", "app.main:start_multi:288", "Multi-handler server configuration complete.");
        Log.Loguru("INFO", "app.main:start_multi:289", "Starting Uvicorn server...");
        UvicornApp.Started(Log);

        if (runtime.StartMode == StartMode.LoadFirst && !await LoadAsync())
            return 1;

        await using var app = KestrelHost.Build(options.Host, options.Port,
            context => Log.UvicornAccess($"{KestrelHost.ClientAddress(context)}:{context.Connection.RemotePort}", KestrelHost.RequestLine(context), context.Response.StatusCode));
        app.Use(async (context, next) =>
        {
            var started = runtime.Time.GetTimestamp();
            context.Response.OnStarting(() =>
            {
                context.Response.Headers["X-Process-Time"] = runtime.Time.GetElapsedTime(started).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
            context.Response.Headers["server"] = "uvicorn";
            await next(context);
        });
        app.MapGet("/health", HealthAsync);
        app.MapGet("/v1/models", ModelsAsync);
        app.MapGet("/v1/queue/stats", QueueStatsAsync);
        app.MapPost("/v1/chat/completions", ChatAsync);
        app.MapFallback(context => UvicornApp.DetailAsync(context, 404, "Not Found"));

        if (!await KestrelHost.TryStartAsync(app))
        {
            UvicornApp.BindFailed(Log, options.Host, options.Port);
            return 1;
        }
        UvicornApp.Running(Log, options.Host, options.Port);
        if (runtime.StartMode == StartMode.LoadFirst)
        {
            await app.WaitForShutdownAsync();
            UvicornApp.Stopped(Log);
            return 0;
        }
        var shutdown = app.WaitForShutdownAsync();
        var load = LoadAsync();
        if (await Task.WhenAny(shutdown, load) == load && !await load)
        {
            await app.StopAsync();
            return 1;
        }
        await shutdown;
        UvicornApp.Stopped(Log);
        return 0;
    }

    void Banner()
    {
        var o = runtime.Options;
        const string rule = "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━";
        const string at = "app.main:print_multi_startup_banner";
        Log.Loguru("INFO", at + ":169", rule);
        Log.Loguru("INFO", at + ":170", $"✨ MLX Server v{EngineRuntime.OpenAiServerVersion} Starting (Multi-Handler Mode) ✨");
        Log.Loguru("INFO", at + ":171", rule);
        Log.Loguru("INFO", at + ":172", $"🌐 Host: {o.Host}");
        Log.Loguru("INFO", at + ":173", $"🔌 Port: {o.Port}");
        Log.Loguru("INFO", at + ":174", $"📝 Log Level: {o.LogLevel}");
        Log.Loguru("INFO", at + ":175", "🔢 Models to load: 1");
        Log.Loguru("INFO", at + ":177", $"  [1] {ServedName} (type={o.ModelType}, path={o.Model})");
        if (o.ServedModelName is { } served && served != o.Model) Log.Loguru("INFO", at + ":179", $"       • served_model_name: {served}");
        if (o.ContextLength is { } context) Log.Loguru("INFO", at + ":179", $"       • context_length: {context}");
        if (o.Raw.Flag("enable_auto_tool_choice")) Log.Loguru("INFO", at + ":179", "       • auto_tool_choice: True");
        if (o.ToolCallParser is { } tool) Log.Loguru("INFO", at + ":179", $"       • tool_call_parser: {tool}");
        if (o.ReasoningParser is { } reasoning) Log.Loguru("INFO", at + ":179", $"       • reasoning_parser: {reasoning}");
        if (o.ChatTemplateFile is { } template) Log.Loguru("INFO", at + ":179", $"       • chat_template_file: {template}");
        Log.Loguru("INFO", at + ":180", rule);
    }

    async Task<bool> LoadAsync()
    {
        var o = runtime.Options;
        if (o.ModelType is not ("lm" or "multimodal"))
        {
            var e = new PythonException("NotImplementedError", $"EngineEmulator: model type '{o.ModelType}' is not emulated (lm and multimodal are)", []);
            Log.Loguru("ERROR", "app.server:lifespan:471", $"Failed to initialize multi-handler setup: {e.PythonMessage}");
            UvicornApp.StartupFailed(Log, e, []);
            return false;
        }
        Log.Loguru("INFO", "app.server:lifespan:432", $"Spawning handler process for model '{ServedName}' (type={o.ModelType}, path={o.Model})");
        try
        {
            await runtime.Slot.LoadStartupAsync(o.Model);
        }
        catch (PythonException e)
        {
            Log.Loguru("ERROR", "app.server:lifespan:471", $"Failed to initialize multi-handler setup: Handler process for '{ServedName}' failed to start: {e.Summary}");
            UvicornApp.StartupFailed(Log, e, [new(PythonPaths.Package("app/server.py"), 444, "lifespan", "await proxy.start(queue_config)")]);
            return false;
        }
        Log.Loguru("INFO", "app.core.handler_process:start:609", $"Handler process for '{ServedName}' is ready");
        Log.Loguru("INFO", "app.server:lifespan:453", $"Model '{ServedName}' spawned and registered successfully");
        Log.Loguru("INFO", "app.server:lifespan:465", "Multi-handler initialization complete. 1 model(s) spawned.");
        return true;
    }

    static JsonObject Error(string message, string type, int code) =>
        new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["code"] = code } };

    Task HealthAsync(HttpContext context) => Ready
        ? UvicornApp.JsonAsync(context, 200, new JsonObject { ["status"] = "ok", ["model_id"] = ServedName, ["model_status"] = "initialized (1 model(s))" })
        : UvicornApp.JsonAsync(context, 503, new JsonObject { ["status"] = "unhealthy", ["model_id"] = null, ["model_status"] = "uninitialized" });

    Task ModelsAsync(HttpContext context) => Ready
        ? UvicornApp.JsonAsync(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject { ["id"] = ServedName, ["object"] = "model", ["created"] = runtime.StartedAt.ToUnixTimeSeconds(), ["owned_by"] = "local" }),
        })
        : UvicornApp.JsonAsync(context, 503, Error("Model handler not initialized", "service_unavailable", 503));

    Task QueueStatsAsync(HttpContext context) =>
        UvicornApp.JsonAsync(context, 200, new JsonObject
        {
            ["status"] = "ok",
            ["queue_stats"] = new JsonObject
            {
                ["running"] = Ready, ["queue_size"] = 0, ["max_queue_size"] = runtime.Options.Raw.Int("queue_size"), ["active_requests"] = 0,
            },
        });

    async Task ChatAsync(HttpContext context)
    {
        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            await UvicornApp.DetailAsync(context, 422, new JsonArray(new JsonObject { ["type"] = "json_invalid", ["loc"] = new JsonArray("body", 0), ["msg"] = "JSON decode error" }));
            return;
        }
        if (body["messages"] is not JsonArray)
        {
            await UvicornApp.MissingFieldAsync(context, "messages", body);
            return;
        }
        var chat = ChatRequest.Parse(body);
        var responseModel = chat.Model ?? TextModelAlias;
        if (chat.Model is { } named && named != ServedName && named != TextModelAlias)
        {
            await UvicornApp.DetailAsync(context, 404, Error($"Model '{named}' not found. Available models: {ServedName}", "model_not_found", 404));
            return;
        }

        LoadedModel? model;
        try
        {
            model = await runtime.Slot.Startup.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return;
        }
        if (model is null) return;

        var multimodal = runtime.Options.ModelType == "multimodal";
        if (!multimodal && chat.Messages.Any(m => m.Media.Count > 0))
        {
            await UvicornApp.JsonAsync(context, 400, Error("Image, video and audio inputs need --model-type multimodal; this server runs a text-only (lm) model.", "invalid_request_error", 400), pythonDumps: true);
            return;
        }

        var thinkingEnabled = MlxLmEngine.Flag(chat.ChatTemplateKwargs, "enable_thinking") ?? true;
        var thinking = !model.Folder.SupportsThinking ? ThinkingOutput.None
            : model.Folder.Thinking == ThinkingMarkup.InlineClosingOnly ? ThinkingOutput.InlineClosingOnly
            : !thinkingEnabled ? ThinkingOutput.None
            : model.Folder.Thinking == ThinkingMarkup.Parsed && runtime.Options.ReasoningParser is not null ? ThinkingOutput.Parsed
            : ThinkingOutput.InlineTags;
        var tools = chat.Tools.Count == 0 || !model.Folder.SupportsTools ? ToolOutput.Ignored
            : runtime.Options.ToolCallParser is not null ? ToolOutput.Parsed : ToolOutput.RawText;

        ChatTurn turn;
        try
        {
            turn = await ChatTurn.BuildAsync(runtime, chat, model, thinking, tools, context.RequestServices.GetRequiredService<IHttpClientFactory>(),
                usePromptCache: true, context.RequestAborted);
        }
        catch (MediaProblemException e)
        {
            await UvicornApp.JsonAsync(context, 400, Error(e.Message, "invalid_request_error", 400), pythonDumps: true);
            return;
        }
        Log.Loguru("INFO", "app.api.endpoints:process_text_request:1089", $"Processing {(multimodal ? "multimodal" : "text")} request [request_id={Guid.NewGuid():N}]");
        await new OpenAiServerResponse(runtime, context, turn, responseModel).WriteAsync();
    }
}
