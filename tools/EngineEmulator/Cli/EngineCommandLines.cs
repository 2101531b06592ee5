using System.Text.Json.Nodes;

namespace MlxManager.EngineEmulator.Cli;

/// <summary>What the emulator needs from any flavour's command line, after parsing.</summary>
public sealed record EngineOptions
{
    public required Flavour Flavour { get; init; }
    public required ParsedOptions Raw { get; init; }
    /// <summary><c>--model</c> / <c>--model-path</c>; null when none was given.</summary>
    public string? Model { get; init; }
    public required string Host { get; init; }
    public required int Port { get; init; }
    /// <summary>The engine's default for requests without <c>max_tokens</c>.</summary>
    public required long DefaultMaxTokens { get; init; }
    public required int PrefillStepSize { get; init; }
    /// <summary>mlx_lm's <c>--chat-template-args</c>.</summary>
    public JsonObject ChatTemplateArgs { get; init; } = [];
    /// <summary>mlx_vlm's <c>--enable-thinking</c>.</summary>
    public bool EnableThinking { get; init; }
    /// <summary>mlx-openai-server's <c>--reasoning-parser</c>.</summary>
    public string? ReasoningParser { get; init; }
    /// <summary>mlx-openai-server's <c>--tool-call-parser</c>.</summary>
    public string? ToolCallParser { get; init; }
    /// <summary>mlx-openai-server's <c>--model-type</c> (<c>lm</c>, <c>multimodal</c>, …).</summary>
    public string ModelType { get; init; } = "lm";
    /// <summary>mlx-openai-server's name for the model in <c>/v1/models</c> and requests (defaults to the model path).</summary>
    public string? ServedModelName { get; init; }
    public int? ContextLength { get; init; }
    public string? ApiKey { get; init; }
    public string LogLevel { get; init; } = "INFO";
    public string? ChatTemplateFile { get; init; }
    public string? ChatTemplate { get; init; }
    public string? LogFile { get; init; }
    public bool NoLogFile { get; init; }
    public string? AdapterPath { get; init; }
    public string? DraftModel { get; init; }
}

/// <summary>The real command lines of the three engines: flag names, types, defaults and choices as their
/// sources declare them (mlx_lm/server.py, mlx_vlm/server/cli.py, mlx-openai-server app/cli.py).</summary>
public static class EngineCommandLines
{
    static readonly string[] LogLevels = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

    public static IReadOnlyList<OptionSpec> MlxLmOptions { get; } =
    [
        new("--model", OptionKind.String) { Help = "The path to the MLX model weights, tokenizer, and config" },
        new("--adapter-path", OptionKind.String) { Help = "Optional path for the trained adapter weights and config." },
        new("--host", OptionKind.String) { Default = "127.0.0.1", Help = "Host for the HTTP server (default: 127.0.0.1)" },
        new("--port", OptionKind.Int) { Default = 8080L, Help = "Port for the HTTP server (default: 8080)" },
        new("--allowed-origins", OptionKind.CommaList) { Default = "*", Help = "Allowed origins (default: *)" },
        new("--draft-model", OptionKind.String) { Help = "A model to be used for speculative decoding." },
        new("--num-draft-tokens", OptionKind.Int) { Default = 3L, Help = "Number of tokens to draft when using speculative decoding." },
        new("--trust-remote-code", OptionKind.Flag) { Help = "Enable trusting remote code for tokenizer" },
        new("--log-level", OptionKind.String) { Default = "INFO", Choices = LogLevels, Help = "Set the logging level (default: INFO)" },
        new("--chat-template", OptionKind.String) { Default = "", Help = "Specify a chat template for the tokenizer" },
        new("--use-default-chat-template", OptionKind.Flag) { Help = "Use the default chat template" },
        new("--temp", OptionKind.Float) { Default = 0.0, Help = "Default sampling temperature (default: 0.0)" },
        new("--top-p", OptionKind.Float) { Default = 1.0, Help = "Default nucleus sampling top-p (default: 1.0)" },
        new("--top-k", OptionKind.Int) { Default = 0L, Help = "Default top-k sampling (default: 0, disables top-k)" },
        new("--min-p", OptionKind.Float) { Default = 0.0, Help = "Default min-p sampling (default: 0.0, disables min-p)" },
        new("--max-tokens", OptionKind.Int) { Default = 512L, Help = "Default maximum number of tokens to generate (default: 512)" },
        new("--chat-template-args", OptionKind.Json) { Default = new JsonObject(), Help = """A JSON formatted string of arguments for the tokenizer's apply_chat_template, e.g. '{"enable_thinking":false}'""" },
        new("--decode-concurrency", OptionKind.Int) { Default = 32L, Help = "When a request is batchable then decode that many requests in parallel" },
        new("--prompt-concurrency", OptionKind.Int) { Default = 8L, Help = "When a request is batchable then process that many prompts in parallel" },
        new("--prefill-step-size", OptionKind.Int) { Default = 2048L, Help = "Step size for prefill processing (default: 2048)" },
        new("--prompt-cache-size", OptionKind.Int) { Default = 10L, Help = "Maximum number of distinct KV caches to hold in the prompt cache" },
        new("--prompt-cache-bytes", OptionKind.Size) { Help = "Maximum size in bytes of the KV caches" },
        new("--pipeline", OptionKind.Flag) { Help = "Use pipelining instead of tensor parallelism" },
    ];

    public static IReadOnlyList<OptionSpec> MlxVlmOptions { get; } =
    [
        new("--host", OptionKind.String) { Default = "0.0.0.0", Help = "Host for the HTTP server (default:0.0.0.0)" },
        new("--port", OptionKind.Int) { Default = 8080L, Help = "Port for the HTTP server (default: 8080)" },
        new("--trust-remote-code", OptionKind.Flag) { Help = "Trust remote code when loading models from Hugging Face Hub." },
        new("--model", OptionKind.String) { Help = "Pre-load a language model at startup (e.g. mlx-community/Qwen2.5-VL-3B-Instruct-4bit)." },
        new("--image-model", OptionKind.String) { Help = "Pre-load an image generation model at startup." },
        new("--tts-model", OptionKind.String) { Help = "Pre-load a text-to-speech model at startup." },
        new("--stt-model", OptionKind.String) { Help = "Pre-load a speech-to-text model at startup." },
        new("--embedding-model", OptionKind.String) { Help = "Pre-load an embedding model at startup." },
        new("--reranker-model", OptionKind.String) { Help = "Pre-load a supported reranker model at startup." },
        new("--adapter-path", OptionKind.String) { Help = "Adapter weights to load with the model." },
        new("--vision-cache-size", OptionKind.Int) { Default = 20L, Help = "Max number of cached vision features (default: 20)." },
        new("--prefill-step-size", OptionKind.Int) { Default = 2048L, Help = "Tokens per prefill step (default: %(default)s)." },
        new("--log-progress-interval", OptionKind.Int) { Default = 10L, Help = "Decoded tokens between progress log messages; 0 disables periodic decode progress (default: %(default)s)." },
        new("--max-tokens", OptionKind.Int) { Default = 2048L, Help = "Maximum number of tokens to generate." },
        new("--enable-thinking", OptionKind.Flag) { Help = "Enable thinking mode by default for requests that do not set enable_thinking explicitly." },
        new("--thinking-budget", OptionKind.Int) { Help = "Default maximum number of tokens allowed inside a thinking block. Requests can override this with thinking_budget." },
        new("--thinking-start-token", OptionKind.String) { Help = "Default token that opens a thinking block. Requests can override this with thinking_start_token." },
        new("--thinking-end-token", OptionKind.String) { Aliases = ["--thinking-eos-token"], Help = "Default token that closes a thinking block. Requests can override this with thinking_end_token." },
        new("--kv-bits", OptionKind.Float) { Help = "Number of bits for KV cache quantization (e.g. 3.5 for TurboQuant)." },
        new("--kv-key-bits", OptionKind.Float) { Help = "Override the TurboQuant key bit-width (defaults to floor(--kv-bits))." },
        new("--kv-value-bits", OptionKind.Float) { Help = "Override the TurboQuant value bit-width (defaults to ceil(--kv-bits))." },
        new("--kv-key-scheme", OptionKind.String) { Choices = ["uniform", "turboquant"], Help = "Override the KV quantization backend for keys only." },
        new("--kv-value-scheme", OptionKind.String) { Choices = ["uniform", "turboquant"], Help = "Override the KV quantization backend for values only." },
        new("--kv-quant-scheme", OptionKind.String) { Default = "uniform", Choices = ["uniform", "turboquant"], Help = "KV cache quantization backend." },
        new("--kv-group-size", OptionKind.Int) { Default = 64L, Help = "Group size for uniform KV cache quantization." },
        new("--max-kv-size", OptionKind.Int) { Help = "Maximum KV cache size in tokens." },
        new("--quantized-kv-start", OptionKind.Int) { Default = 0L, Help = "Start index for quantized KV cache." },
        new("--draft-model", OptionKind.String) { Help = "Speculative drafter path or HF id." },
        new("--draft-kind", OptionKind.String) { Choices = ["dflash", "eagle3", "mtp"], Help = "Drafter family. Default: auto-detected from the drafter's HF model_type." },
        new("--draft-block-size", OptionKind.Int) { Help = "Override the drafter's configured block size." },
        new("--max-num-seqs", OptionKind.Int) { Help = "Maximum number of sequences decoded concurrently in the continuous batch." },
        new("--top-logprobs-k", OptionKind.Int) { Help = "Server-side cap for per-token top_logprobs (0-20, default 0 = disabled)." },
        new("--api-key", OptionKind.String) { Help = "Optional bearer token required for inference, model discovery, and management endpoints." },
        new("--reload", OptionKind.Flag) { Help = "Enable auto-reload for development." },
        new("--log-level", OptionKind.String) { Default = "INFO", Choices = LogLevels, Help = "Set the logging level (default: INFO)." },
    ];

    /// <summary>The tool-call and reasoning parser names mlx-openai-server registers.</summary>
    public static IReadOnlyList<string> OpenAiToolParsers { get; } =
        new[] { "hermes", "qwen3", "qwen3_coder", "qwen3_moe", "qwen3_vl", "glm4_moe", "minimax_m2", "nemotron3_nano", "functiongemma", "gemma4", "iquest_coder_v1", "solar_open", "longcat_flash_lite", "kimi_k2", "step_35", "harmony" }
            .Order(StringComparer.Ordinal).ToArray();

    public static IReadOnlyList<string> OpenAiReasoningParsers { get; } =
        new[] { "hermes", "qwen3", "qwen3_moe", "qwen3_vl", "qwen3_5", "glm4_moe", "glm47_flash", "minimax_m2", "nemotron3_nano", "solar_open", "gemma4", "kimi_k2", "mixed_think_tool_handoff", "step_35", "harmony" }
            .Order(StringComparer.Ordinal).ToArray();

    public static IReadOnlyList<string> OpenAiModelTypes { get; } = ["lm", "multimodal", "image-generation", "image-edit", "embeddings", "whisper"];

    public static IReadOnlyList<OptionSpec> OpenAiServerOptions { get; } =
    [
        new("--config", OptionKind.String) { DestOverride = "config_file", MetavarOverride = "PATH", Help = "Path to a YAML config file for multi-handler mode. When provided, --model-path and other per-model flags are ignored." },
        new("--model-path", OptionKind.String) { Help = "Path to the model (required for lm, multimodal, embeddings, image-generation, image-edit, whisper model types)." },
        new("--model-type", OptionKind.String) { Default = "lm", Choices = OpenAiModelTypes, Help = "Type of model to run (lm: text-only, multimodal: text+vision+audio, image-generation, image-edit, embeddings, whisper)" },
        new("--context-length", OptionKind.Int) { Help = "Context length for language models. If not specified, uses model default." },
        new("--served-model-name", OptionKind.String) { Help = "Override the model name returned by /v1/models and accepted in request 'model' field. Defaults to model_path if not set." },
        new("--port", OptionKind.Int) { Default = 8000L, Help = "Port to run the server on" },
        new("--host", OptionKind.String) { Default = "0.0.0.0", Help = "Host to run the server on" },
        new("--queue-timeout", OptionKind.Int) { Default = 300L, Help = "Request timeout in seconds" },
        new("--queue-size", OptionKind.Int) { Default = 100L, Help = "Maximum queue size for pending requests" },
        new("--quantize", OptionKind.Int) { Help = "Quantization level for the model. Only used for image-generation and image-edit Flux models." },
        new("--config-name", OptionKind.String) { MetavarOverride = "CONFIG_NAME", Help = "Config name of the model. Only used for image-generation and image-edit models." },
        new("--lora-paths", OptionKind.String) { Help = "Path to the LoRA file(s). Multiple paths should be separated by commas." },
        new("--lora-scales", OptionKind.String) { Help = "Scale factor for the LoRA file(s). Multiple scales should be separated by commas." },
        new("--disable-auto-resize", OptionKind.Flag) { Help = "Disable automatic model resizing. Only work for Vision Language Models." },
        new("--log-file", OptionKind.String) { Help = "Path to log file. If not specified, logs will be written to 'logs/app.log' by default." },
        new("--no-log-file", OptionKind.Flag) { Help = "Disable file logging entirely. Only console output will be shown." },
        new("--log-level", OptionKind.String) { Default = "INFO", Choices = LogLevels, UpperChoice = true, Help = "Set the logging level. Default is INFO." },
        new("--enable-auto-tool-choice", OptionKind.Flag) { Help = "Enable automatic tool choice. Only works with language models." },
        new("--tool-call-parser", OptionKind.String) { Choices = OpenAiToolParsers, Help = "Specify tool call parser to use instead of auto-detection. Only works with language models." },
        new("--reasoning-parser", OptionKind.String) { Choices = OpenAiReasoningParsers, Help = "Specify reasoning parser to use instead of auto-detection. Only works with language models." },
        new("--trust-remote-code", OptionKind.Flag) { Help = "Enable trust_remote_code when loading models." },
        new("--chat-template-file", OptionKind.String) { Help = "Path to a custom chat template file. Only works with language models (lm) and multimodal models." },
        new("--debug", OptionKind.Flag) { Help = "Enable debug mode for language models." },
        new("--prompt-cache-size", OptionKind.Int) { Default = 10L, Help = "Maximum number of prompt KV cache entries to store. Default is 10." },
        new("--max-bytes", OptionKind.Int) { DestOverride = "prompt_cache_max_bytes", Default = long.MaxValue, Help = "Maximum total bytes retained by prompt KV caches before eviction." },
        new("--prompt-cache-dir", OptionKind.String) { MetavarOverride = "DIRECTORY", Help = "Directory for disk-backed prompt KV cache payloads." },
        new("--draft-model-path", OptionKind.String) { Help = "Path to the draft model for speculative decoding. Only supported with model type 'lm'." },
        new("--num-draft-tokens", OptionKind.Int) { Default = 2L, Help = "Number of draft tokens per step when using speculative decoding. Default is 2." },
        new("--kv-bits", OptionKind.Int) { Help = "Number of bits for KV cache quantization (e.g. 4, 8)." },
        new("--kv-group-size", OptionKind.Int) { Default = 64L, Help = "Group size for KV cache quantization. Default is 64." },
        new("--quantized-kv-start", OptionKind.Int) { Default = 0L, Help = "Step to begin using a quantized KV cache when --kv-bits is set. Default is 0." },
        new("--decode-concurrency", OptionKind.Int) { DestOverride = "batch_completion_size", Default = 32L, Help = "When a request is batchable, decode that many requests in parallel. Default is 32." },
        new("--prompt-concurrency", OptionKind.Int) { DestOverride = "batch_prefill_size", Default = 8L, Help = "When a request is batchable, prefill that many prompts in parallel. Default is 8." },
        new("--prefill-step-size", OptionKind.Int) { DestOverride = "batch_prefill_step_size", Default = 2048L, Help = "Maximum tokens processed per prefill step during batched generation. Default is 2048." },
        new("--disable-batching", OptionKind.Flag) { Help = "Disable continuous batching for LM/VLM models." },
        new("--max-tokens", OptionKind.Int) { Help = "Default maximum number of tokens to generate. If omitted, uses model generation_config.json when available." },
        new("--temperature", OptionKind.Float) { Help = "Default sampling temperature." },
        new("--top-p", OptionKind.Float) { Help = "Default nucleus sampling (top-p) probability." },
        new("--top-k", OptionKind.Int) { Help = "Default top-k sampling parameter." },
        new("--min-p", OptionKind.Float) { Help = "Default min-p sampling parameter." },
        new("--repetition-penalty", OptionKind.Float) { Help = "Default repetition penalty for token generation." },
        new("--presence-penalty", OptionKind.Float) { Help = "Default presence penalty for token generation." },
        new("--xtc-probability", OptionKind.Float) { Help = "Default XTC probability sampling parameter." },
        new("--xtc-threshold", OptionKind.Float) { Help = "Default XTC threshold sampling parameter." },
        new("--seed", OptionKind.Int) { Help = "Default random seed for generation." },
        new("--repetition-context-size", OptionKind.Int) { Help = "Default repetition context size parameter." },
    ];

    public static ArgparseCommandLine MlxLm() => new(FlavourNames.MlxLm, "MLX Http Server.", MlxLmOptions);
    public static ArgparseCommandLine MlxVlm() => new(FlavourNames.MlxVlm, "MLX VLM Http Server.", MlxVlmOptions);
    public static ClickCommandLine OpenAiServer() => new(FlavourNames.OpenAiServer, "launch",
        "Start the FastAPI/Uvicorn server with the supplied flags.\n\nWhen ``--config`` is provided the server launches in multi-handler mode, loading all models defined in the YAML file. In this mode per-model CLI flags (``--model-path``, ``--model-type``, etc.) are ignored.\n\nOtherwise the command builds a single-model ``MLXServerConfig`` and calls the async ``start`` routine.",
        OpenAiServerOptions)
    {
        // click.version_option(message=…) in app/cli.py; click echoes the message, which starts and ends with a newline.
        Version = $"\n✨ {FlavourNames.OpenAiServer} - OpenAI Compatible API Server for MLX models ✨\n━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n🚀 Version: {Server.EngineRuntime.OpenAiServerVersion}\n\n",
    };

    /// <summary>Parses a flavour's command line; either options to run with, or text to print and an exit code.</summary>
    public static (EngineOptions? Options, CommandLineOutcome Outcome) Parse(Flavour flavour, IReadOnlyList<string> args)
    {
        switch (flavour)
        {
            case Flavour.MlxLm:
            {
                var outcome = MlxLm().Parse(args);
                if (outcome.Options is not { } o) return (null, outcome);
                return (new EngineOptions
                {
                    Flavour = flavour,
                    Raw = o,
                    Model = o.String("model"),
                    Host = o.String("host")!,
                    Port = (int)o.Int("port")!.Value,
                    DefaultMaxTokens = o.Int("max_tokens")!.Value,
                    PrefillStepSize = (int)Math.Max(1, o.Int("prefill_step_size")!.Value),
                    ChatTemplateArgs = o.Json("chat_template_args") as JsonObject ?? [],
                    LogLevel = o.String("log_level")!,
                    ChatTemplate = o.String("chat_template") is { Length: > 0 } t ? t : null,
                    AdapterPath = o.String("adapter_path"),
                    DraftModel = o.String("draft_model"),
                }, outcome);
            }
            case Flavour.MlxVlm:
            {
                var outcome = MlxVlm().Parse(args);
                if (outcome.Options is not { } o) return (null, outcome);
                return (new EngineOptions
                {
                    Flavour = flavour,
                    Raw = o,
                    Model = o.String("model"),
                    Host = o.String("host")!,
                    Port = (int)o.Int("port")!.Value,
                    DefaultMaxTokens = o.Int("max_tokens")!.Value,
                    PrefillStepSize = (int)Math.Max(1, o.Int("prefill_step_size")!.Value),
                    EnableThinking = o.Flag("enable_thinking"),
                    ApiKey = o.String("api_key"),
                    LogLevel = o.String("log_level")!,
                    AdapterPath = o.String("adapter_path"),
                    DraftModel = o.String("draft_model"),
                }, outcome);
            }
            default:
            {
                var cli = OpenAiServer();
                var outcome = cli.Parse(args);
                if (outcome.Options is not { } o) return (null, outcome);
                if (o.String("config_file") is { } config)
                    return (null, File.Exists(config)
                        ? new CommandLineOutcome(null, 2, "", $"EngineEmulator: mlx-openai-server multi-handler mode (--config {config}) is not emulated; use --model-path.\n")
                        : cli.CommandError($"Invalid value for '--config': Path {ArgparseCommandLine.PythonRepr(config)} does not exist."));
                if (o.String("model_path") is not { } modelPath)
                    return (null, cli.CommandError("Either --config (multi-handler YAML) or --model-path (single model) is required."));
                var modelType = o.String("model_type")!;
                if (modelType is "image-generation" or "image-edit")
                    return (null, cli.CommandError("Image generation and editing require the `mflux` package. Install it with `pip install mflux==0.17.0`. Optional import failed: No module named 'mflux'"));
                return (new EngineOptions
                {
                    Flavour = flavour,
                    Raw = o,
                    Model = modelPath,
                    Host = o.String("host")!,
                    Port = (int)o.Int("port")!.Value,
                    DefaultMaxTokens = o.Int("max_tokens") ?? (modelType == "multimodal" ? 100_000 : 1_000_000),
                    PrefillStepSize = (int)Math.Max(1, o.Int("batch_prefill_step_size")!.Value),
                    ReasoningParser = o.String("reasoning_parser"),
                    ToolCallParser = o.String("tool_call_parser"),
                    ModelType = modelType,
                    ServedModelName = o.String("served_model_name"),
                    ContextLength = o.Int("context_length") is long c ? (int)c : null,
                    LogLevel = o.String("log_level")!,
                    ChatTemplateFile = o.String("chat_template_file"),
                    LogFile = o.String("log_file"),
                    NoLogFile = o.Flag("no_log_file"),
                    DraftModel = o.String("draft_model_path"),
                }, outcome);
            }
        }
    }
}
