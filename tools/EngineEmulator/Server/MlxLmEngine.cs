using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Models;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>mlx_lm.server: a ThreadingHTTPServer that listens at once while a generation thread loads
/// <c>--model</c>; requests queue behind the load; a failed load kills that thread (traceback on stderr) and
/// leaves the server listening with requests hanging. <c>EMULATOR_START_MODE=load-first</c> gives the older
/// behaviour: load, then listen, exit 1 on failure.</summary>
public sealed class MlxLmEngine(EngineRuntime runtime)
{
    static readonly string ServerPy = PythonPaths.Package("mlx_lm/server.py");
    EngineConsole Log => runtime.Console;

    public async Task<int> RunAsync()
    {
        var options = runtime.Options;
        if (runtime.StartMode == StartMode.LoadFirst && options.Model is { } eager)
        {
            try
            {
                AnnounceFetch(eager);
                await runtime.Slot.LoadStartupAsync(eager);
            }
            catch (PythonException e)
            {
                Log.Stderr(e.WithOuterFrames(
                [
                    new("/Users/mlx/.venv/bin/mlx_lm.server", 8, "<module>", "sys.exit(main())"),
                    new(ServerPy, 1043, "main", "run(args.host, args.port, ModelProvider(args))"),
                    new(ServerPy, 174, "__init__", "self.load(\"default_model\")"),
                    new(ServerPy, 226, "load", "model, tokenizer = load("),
                ]).Format());
                return 1;
            }
        }

        await using var app = KestrelHost.Build(options.Host, options.Port, context =>
        {
            if (!context.Items.ContainsKey(MlxLmResponse.RequestLogged))
                Log.BaseHttpRequestLine(KestrelHost.ClientAddress(context), KestrelHost.RequestLine(context), context.Response.StatusCode);
        });
        app.Run(HandleAsync);

        if (runtime.StartMode == StartMode.ListenFirst)
            _ = Task.Run(LoadOnGenerationThreadAsync);

        if (!await KestrelHost.TryStartAsync(app))
        {
            Log.Stderr(new PythonException("OSError", "[Errno 48] Address already in use",
            [
                new("/Users/mlx/.venv/bin/mlx_lm.server", 8, "<module>", "sys.exit(main())"),
                new(ServerPy, 1868, "main", "run(args.host, args.port, ModelProvider(args))"),
                new(ServerPy, 1716, "run", "_run_http_server(host, port, response_generator)"),
                new(ServerPy, 1682, "_run_http_server", "httpd = server_class("),
                new(PythonPaths.Std("socketserver.py"), 457, "__init__", "self.server_bind()"),
                new(PythonPaths.Std("http/server.py"), 136, "server_bind", "socketserver.TCPServer.server_bind(self)"),
                new(PythonPaths.Std("socketserver.py"), 473, "server_bind", "self.socket.bind(self.server_address)"),
            ]).Format());
            return 1;
        }
        Log.Stderr($"{ServerPy}:1693: UserWarning: mlx_lm.server is not recommended for production as it only implements basic security checks.\n  warnings.warn(");
        Log.PythonLog("INFO", $"Starting httpd at {options.Host} on port {options.Port}...");
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>huggingface_hub's progress bar when a repo id is resolved (printed even when every file is cached).</summary>
    void AnnounceFetch(string model)
    {
        if (Directory.Exists(model) || runtime.HfCache.MainSnapshot(model) is not { } snapshot) return;
        var files = Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories).Count();
        Log.Stderr($"Fetching {files} files: 100%|██████████| {files}/{files} [00:00<00:00, 18724.57it/s]");
    }

    async Task LoadOnGenerationThreadAsync()
    {
        try
        {
            if (runtime.Options.Model is { } model) AnnounceFetch(model);
            await runtime.Slot.LoadStartupAsync(runtime.Options.Model);
        }
        catch (PythonException e)
        {
            Log.Stderr("Exception in thread Thread-1 (_generate):\n" + e.WithOuterFrames(
            [
                new(PythonPaths.Std("threading.py"), 1075, "_bootstrap_inner", "self.run()"),
                new(PythonPaths.Std("threading.py"), 1012, "run", "self._target(*self._args, **self._kwargs)"),
                new(ServerPy, 607, "_generate", "self.model_provider.load_default()"),
                new(ServerPy, 376, "load_default", "self.load(\"default_model\", None, \"default_model\")"),
                new(ServerPy, 385, "load", "self._load(*model_key)"),
                new(ServerPy, 331, "_load", "model, tokenizer = load("),
            ]).Format());
        }
    }

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        switch (request.Method)
        {
            case "GET" when path.StartsWith("/v1/models", StringComparison.Ordinal):
                await WriteJsonAsync(context, 200, PythonJson.Dumps(Models(path)));
                return;
            case "GET" when path == "/health":
                await WriteJsonAsync(context, 200, "{\"status\": \"ok\"}");
                return;
            case "GET":
                await WriteJsonAsync(context, 404, "Not Found");
                return;
            case "OPTIONS":
                SetHeaders(context.Response, "application/json");
                context.Response.StatusCode = 204;
                return;
            case "POST" when path is "/v1/chat/completions" or "/chat/completions" or "/v1/completions":
                await HandlePostAsync(context, path == "/v1/completions");
                return;
            case "POST":
                await WriteJsonAsync(context, 404, "Not Found");
                return;
            default:
                context.Response.StatusCode = 501;
                context.Response.ContentType = "text/html;charset=utf-8";
                await context.Response.WriteAsync($"<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 501</p>\n        <p>Message: Unsupported method ('{request.Method}').</p>\n        <p>Error code explanation: 501 - Server does not support this operation.</p>\n    </body>\n</html>\n");
                return;
        }
    }

    /// <summary>Every MLX-looking repo in the HF cache (refs/main snapshot with config.json,
    /// model.safetensors.index.json and tokenizer_config.json), then the <c>--model</c> folder if it exists;
    /// <c>/v1/models/{repo}</c> filters by id. None of it means a model is loaded.</summary>
    JsonObject Models(string path)
    {
        var parts = path.Split('/');
        var filter = parts.Length > 3 ? string.Join('/', parts[3..]) : null;
        var created = runtime.UnixNow;
        string[] required = ["config.json", "model.safetensors.index.json", "tokenizer_config.json"];
        var data = new JsonArray();
        foreach (var repo in runtime.HfCache.Scan())
        {
            if (repo.MainSnapshot is null || (filter is not null && repo.RepoId != filter)) continue;
            if (!required.All(repo.MainFiles.Contains)) continue;
            data.Add(new JsonObject { ["id"] = repo.RepoId, ["object"] = "model", ["created"] = created });
        }
        if (runtime.Options.Model is { } model && (Directory.Exists(model) || File.Exists(model)))
            data.Add(new JsonObject { ["id"] = Path.GetFullPath(model), ["object"] = "model", ["created"] = created });
        return new JsonObject { ["object"] = "list", ["data"] = data };
    }

    static void SetHeaders(HttpResponse response, string contentType)
    {
        response.Headers["Server"] = "BaseHTTP/0.6 Python/3.12.8";
        response.Headers.ContentType = contentType;
        response.Headers["Access-Control-Allow-Origin"] = "*";
        response.Headers["Access-Control-Allow-Methods"] = "*";
        response.Headers["Access-Control-Allow-Headers"] = "*";
    }

    static async Task WriteJsonAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        SetHeaders(context.Response, "application/json");
        await context.Response.WriteAsync(body);
    }

    static Task ErrorAsync(HttpContext context, int status, string message) =>
        WriteJsonAsync(context, status, PythonJson.Dumps(new JsonObject { ["error"] = message }));

    /// <summary>An exception escaping do_POST: socketserver prints it and drops the connection without a response.</summary>
    void DropConnection(HttpContext context, string type, string message, string source)
    {
        var port = context.Connection.RemotePort;
        Log.Stderr("----------------------------------------\n"
            + $"Exception occurred during processing of request from ('{KestrelHost.ClientAddress(context)}', {port})\n"
            + new PythonException(type, message,
            [
                new(PythonPaths.Std("socketserver.py"), 697, "process_request_thread", "self.finish_request(request, client_address)"),
                new(ServerPy, 1140, "do_POST", source),
            ]).Format()
            + "----------------------------------------");
        context.Abort();
    }

    async Task HandlePostAsync(HttpContext context, bool textCompletion)
    {
        if (context.Request.Headers.ContentLength is null)
        {
            await ErrorAsync(context, 411, "Content-Length header is required");
            return;
        }
        JsonNode? parsed;
        string raw;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
            raw = await reader.ReadToEndAsync(context.RequestAborted);
        try
        {
            parsed = JsonNode.Parse(raw);
        }
        catch (JsonException e)
        {
            Log.PythonLog("ERROR", $"JSONDecodeError: {e.Message} - Raw body: {raw}");
            await ErrorAsync(context, 400, $"Invalid JSON in request body: {e.Message}");
            return;
        }
        if (parsed is not JsonObject body)
        {
            Log.PythonLog("ERROR", $"Invalid Request Body: {raw}");
            await ErrorAsync(context, 400, "Request should be a JSON dictionary");
            return;
        }
        if (Validate(body) is { } invalid)
        {
            DropConnection(context, "ValueError", invalid, "self.validate_model_parameters()");
            return;
        }
        if (textCompletion)
        {
            if (body["prompt"] is not JsonValue prompt || !prompt.TryGetValue<string>(out var promptText))
            {
                DropConnection(context, "AssertionError", "Request did not contain a prompt", "request = request_factories[self.path]()");
                return;
            }
            body = (JsonObject)body.DeepClone();
            body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = promptText });
        }
        ChatRequest chat;
        try
        {
            chat = ChatRequest.Parse(body);
        }
        catch (FormatException e)
        {
            DropConnection(context, "AssertionError", e.Message, "request = request_factories[self.path]()");
            return;
        }

        var requested = chat.Model ?? "default_model";
        LoadedModel model;
        try
        {
            model = await ModelForAsync(requested, context.RequestAborted);
        }
        catch (PythonException e)
        {
            await ErrorAsync(context, 404, e.PythonMessage);
            return;
        }
        catch (OperationCanceledException)
        {
            // The client gave up on a request that was never answered: no status line was ever sent.
            context.Abort();
            return;
        }

        if (!textCompletion && model.Folder.HasChatTemplate && chat.Messages.Any(m => m.PartTypes.Any(t => t != "text")))
        {
            await ErrorAsync(context, 404, "Only 'text' content type is supported.");
            return;
        }
        if (chat.Tools.Count > 0 && !model.Folder.SupportsTools)
            Log.PythonLog("WARNING", "Received tools but model does not support tool calling. If you think this is an error, file an issue here: https://github.com/ml-explore/mlx-lm/issues");

        var thinking = textCompletion ? ThinkingOutput.None : Thinking(model.Folder, chat);
        var tools = !textCompletion && chat.Tools.Count > 0 && model.Folder.SupportsTools ? ToolOutput.Parsed : ToolOutput.Ignored;
        var turn = await ChatTurn.BuildAsync(runtime, chat, model, thinking, tools,
            context.RequestServices.GetRequiredService<IHttpClientFactory>(), usePromptCache: true, context.RequestAborted);
        Log.PythonLog("INFO", string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Prompt Cache: {runtime.PromptCache.Count} sequences, {runtime.PromptCache.Tokens * model.Folder.KvBytesPerToken / 1e9:0.00} GB"));
        await new MlxLmResponse(runtime, context, turn, requested, textCompletion).WriteAsync();
    }

    /// <summary>mlx_lm's request validation; returns the ValueError message or null.</summary>
    static string? Validate(JsonObject body)
    {
        static bool IsBool(JsonNode? n) => n is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False;
        static bool IsInt(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out _);
        static bool IsNumber(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.Number;
        if (body["stream"] is { } stream && !IsBool(stream)) return "stream must be of type bool";
        var maxTokens = body["max_completion_tokens"] ?? body["max_tokens"];
        if (maxTokens is not null && (!IsInt(maxTokens) || maxTokens.GetValue<long>() < 0))
            return IsInt(maxTokens) ? "max_tokens must be at least 0" : "max_tokens must be of type int";
        if (body["temperature"] is { } t && (!IsNumber(t) || t.GetValue<double>() < 0))
            return IsNumber(t) ? "temperature must be at least 0" : "temperature must be of type ('float', 'int')";
        if (body["top_p"] is { } p && (!IsNumber(p) || p.GetValue<double>() is < 0 or > 1))
            return IsNumber(p) ? (p.GetValue<double>() < 0 ? "top_p must be at least 0" : "top_p must be at most 1") : "top_p must be of type ('float', 'int')";
        if (body["top_k"] is { } k && (!IsInt(k) || k.GetValue<long>() < 0)) return IsInt(k) ? "top_k must be at least 0" : "top_k must be of type int";
        if (body["model"] is { } m && !(m is JsonValue mv && mv.TryGetValue<string>(out _))) return "requested_model must be of type str";
        if (body["seed"] is { } seed && !IsInt(seed)) return "seed must be of type int";
        if (body["logit_bias"] is { } bias && bias is not JsonObject) return "logit_bias must be of type dict";
        return null;
    }

    /// <summary>The model a request gets. Everything waits for the start-up load; after a failed one nothing is
    /// ever answered (the generation thread is dead). <c>default_model</c> or the <c>--model</c> string means the
    /// start-up model; any other value is loaded in its place, as the real server does.</summary>
    async Task<LoadedModel> ModelForAsync(string requested, CancellationToken cancellationToken)
    {
        await runtime.Slot.Startup.WaitAsync(cancellationToken);
        var target = requested == "default_model" || requested == runtime.Options.Model ? runtime.Options.Model : requested;
        if (target is null)
            throw new PythonException("TypeError", "expected str, bytes or os.PathLike object, not NoneType", []);
        if (runtime.Slot.Current?.Requested != target)
        {
            Log.PythonLog("DEBUG", $"Loading model {target}");
            AnnounceFetch(target);
        }
        return await runtime.Slot.SwitchToAsync(target);
    }

    ThinkingOutput Thinking(ModelFolder folder, ChatRequest chat)
    {
        if (!folder.SupportsThinking) return ThinkingOutput.None;
        if (folder.Thinking == ThinkingMarkup.InlineClosingOnly) return ThinkingOutput.InlineClosingOnly;
        var enabled = Flag(chat.ChatTemplateKwargs, "enable_thinking") ?? Flag(runtime.Options.ChatTemplateArgs, "enable_thinking") ?? true;
        if (!enabled) return ThinkingOutput.None;
        return folder.Thinking == ThinkingMarkup.InlineTags ? ThinkingOutput.InlineTags : ThinkingOutput.Parsed;
    }

    internal static bool? Flag(JsonObject? args, string name) =>
        args?[name] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;
}
