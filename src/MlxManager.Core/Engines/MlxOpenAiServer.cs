using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>
/// <c>mlx-openai-server</c> (third-party, the engine the original manager wrapped):
/// <c>mlx-openai-server launch --model-path … --model-type lm|multimodal</c>.
/// <para>
/// Quirks: it binds to 0.0.0.0 unless told otherwise; it writes <c>logs/app.log</c> into its working
/// directory unless given <c>--no-log-file</c> (the manager captures its output itself); thinking is switched
/// per request through <c>chat_template_kwargs.enable_thinking</c>, and the reasoning parser separates it
/// from the answer. <c>/health</c> answers 503 until the model is loaded, then 200.
/// </para>
/// </summary>
public sealed class MlxOpenAiServer : EngineDefinition
{
    public const string EngineKey = "mlx-openai-server";

    /// <summary>Parser names the engine knew when this was written; its <c>--help</c> is the authority.</summary>
    public static readonly IReadOnlyList<string> KnownReasoningParsers =
        ["glm4_moe", "gemma4", "harmony", "hermes", "kimi_k2", "minimax_m2", "qwen3", "qwen3_5", "qwen3_moe", "qwen3_vl"];

    /// <inheritdoc cref="KnownReasoningParsers"/>
    public static readonly IReadOnlyList<string> KnownToolCallParsers =
        ["functiongemma", "gemma4", "glm4_moe", "harmony", "hermes", "kimi_k2", "minimax_m2", "qwen3", "qwen3_coder", "qwen3_moe", "qwen3_vl"];

    public override string Key => EngineKey;

    public override string DisplayName => "mlx-openai-server (text and multimodal)";

    public override string ExecutableName => "mlx-openai-server";

    public override string InstallHint => "pip install mlx-openai-server";

    public override bool AcceptsImages => true;

    public override int SuggestionOrder => 2;

    protected override string HealthMeaning =>
        "mlx-openai-server answers /health with 503 until its model is loaded, then 200.";

    // --served-model-name would rename the model the probe and the chat ask for; --config switches to a
    // multi-model mode that ignores --model-path; the log file is the manager's business.
    protected override IEnumerable<string> ReservedFlags => ["--served-model-name", "--config", "--log-file", "--no-log-file", "--model-type"];

    public override HealthVerdict InterpretHealth(int statusCode, string body) => statusCode switch
    {
        200 => HealthVerdict.Loaded,
        503 => HealthVerdict.Loading,
        _ => HealthVerdict.Unknown,
    };

    protected override IEnumerable<FieldSupport> DescribeEngineFields() =>
    [
        FieldSupport.Argument(
            ProfileField.ModelRef,
            "--model-path",
            "Passed as --model-path, with --model-type multimodal for models that take images and lm otherwise."),
        FieldSupport.Argument(ProfileField.Host, "--host", "Passed as --host (the engine's own default is 0.0.0.0)."),
        FieldSupport.Argument(ProfileField.Port, "--port", "Passed as --port."),
        FieldSupport.Argument(ProfileField.ContextLength, "--context-length", "Passed as --context-length."),
        FieldSupport.Argument(ProfileField.MaxTokens, "--max-tokens", "Passed as --max-tokens."),
        FieldSupport.Argument(ProfileField.Temperature, "--temperature", "Passed as --temperature."),
        FieldSupport.Argument(ProfileField.TopP, "--top-p", "Passed as --top-p."),
        FieldSupport.Argument(ProfileField.TopK, "--top-k", "Passed as --top-k."),
        FieldSupport.Argument(ProfileField.MinP, "--min-p", "Passed as --min-p."),
        FieldSupport.Argument(ProfileField.RepetitionPenalty, "--repetition-penalty", "Passed as --repetition-penalty."),
        FieldSupport.Request(
            ProfileField.Thinking,
            "chat_template_kwargs.enable_thinking",
            "mlx-openai-server has no start-up switch for thinking; the manager sends chat_template_kwargs.enable_thinking with each request."),
        FieldSupport.Argument(
            ProfileField.ToolCallParser,
            "--tool-call-parser",
            "Passed as --tool-call-parser, together with --enable-auto-tool-choice."),
        FieldSupport.Argument(ProfileField.ReasoningParser, "--reasoning-parser", "Passed as --reasoning-parser."),
        FieldSupport.Argument(ProfileField.TrustRemoteCode, "--trust-remote-code", "Passed as --trust-remote-code."),
    ];

    protected override void AddArguments(List<string> arguments, Profile profile, ResolvedModel model)
    {
        arguments.AddRange([
            "launch",
            "--model-path", model.Reference,
            "--model-type", model.IsMultimodal ? "multimodal" : "lm",
            "--host", profile.Host,
            "--port", Number(profile.Port),
            "--no-log-file",
        ]);
        arguments.AddRange(["--max-tokens", Number(profile.MaxTokens)]);
        AddOption(arguments, "--context-length", profile.ContextLength);
        AddOption(arguments, "--temperature", profile.Temperature);
        AddOption(arguments, "--top-p", profile.TopP);
        AddOption(arguments, "--top-k", profile.TopK);
        AddOption(arguments, "--min-p", profile.MinP);
        AddOption(arguments, "--repetition-penalty", profile.RepetitionPenalty);
        if (!string.IsNullOrWhiteSpace(profile.ToolCallParser))
        {
            AddOption(arguments, "--tool-call-parser", profile.ToolCallParser);
            arguments.Add("--enable-auto-tool-choice");
        }

        AddOption(arguments, "--reasoning-parser", profile.ReasoningParser);
        if (profile.TrustRemoteCode)
        {
            arguments.Add("--trust-remote-code");
        }
    }
}
