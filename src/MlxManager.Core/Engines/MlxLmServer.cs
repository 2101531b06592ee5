using System.Text.Json.Nodes;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>
/// <c>mlx_lm.server</c> (package mlx-lm): the official MLX text server.
/// <para>
/// Quirks: it listens at once and loads the model on a background thread, so <c>/health</c> and
/// <c>/v1/models</c> answer before the model is loaded and prove nothing; if the load fails the thread dies
/// with a traceback while the process keeps listening (<see cref="PythonThreadCrashWatcher"/>). Older
/// releases loaded first and exited on failure; both are handled. It defaults to 512 new tokens, so
/// <c>--max-tokens</c> is always passed. POST bodies need a Content-Length (411 otherwise).
/// </para>
/// </summary>
public sealed class MlxLmServer : EngineDefinition
{
    public const string EngineKey = "mlx_lm.server";

    public override string Key => EngineKey;

    public override string DisplayName => "mlx_lm.server (MLX LM, text)";

    public override string ExecutableName => "mlx_lm.server";

    public override string InstallHint => "pip install mlx-lm";

    public override bool AcceptsImages => false;

    public override int SuggestionOrder => 0;

    protected override string HealthMeaning =>
        "mlx_lm.server answers /health with 200 as soon as it listens, before its model has loaded: it proves nothing.";

    public override HealthVerdict InterpretHealth(int statusCode, string body) => HealthVerdict.Unknown;

    public override IFatalLogWatcher CreateFatalLogWatcher() => new PythonThreadCrashWatcher();

    protected override IEnumerable<FieldSupport> DescribeEngineFields() =>
    [
        FieldSupport.Argument(ProfileField.ModelRef, "--model", "Passed as --model (an HF repo id from the cache, or a folder)."),
        FieldSupport.Argument(ProfileField.Host, "--host", "Passed as --host."),
        FieldSupport.Argument(ProfileField.Port, "--port", "Passed as --port."),
        FieldSupport.Manager(
            ProfileField.ContextLength,
            "mlx_lm.server has no context-length option (its KV cache grows with the conversation up to the model's window). "
            + "The manager checks it against the model's window, uses it for the memory estimate, and its chat treats it as the conversation limit."),
        FieldSupport.Argument(ProfileField.MaxTokens, "--max-tokens", "Passed as --max-tokens (the engine's own default, 512, cuts long answers)."),
        FieldSupport.Argument(ProfileField.Temperature, "--temp", "Passed as --temp."),
        FieldSupport.Argument(ProfileField.TopP, "--top-p", "Passed as --top-p."),
        FieldSupport.Argument(ProfileField.TopK, "--top-k", "Passed as --top-k."),
        FieldSupport.Argument(ProfileField.MinP, "--min-p", "Passed as --min-p."),
        FieldSupport.Request(
            ProfileField.RepetitionPenalty,
            "repetition_penalty",
            "mlx_lm.server has no start-up flag for it; the manager sends repetition_penalty with each request."),
        FieldSupport.Argument(
            ProfileField.Thinking,
            "--chat-template-args",
            "On/Off are passed as --chat-template-args {\"enable_thinking\":true|false}; models whose chat template has no such switch ignore it."),
        FieldSupport.Unsupported(
            ProfileField.ToolCallParser,
            "mlx_lm.server picks the tool-call format from the model's tokenizer configuration; it has no option to choose one."),
        FieldSupport.Unsupported(
            ProfileField.ReasoningParser,
            "mlx_lm.server recognises thinking from the model's tokenizer; it has no reasoning-parser option."),
        FieldSupport.Argument(ProfileField.TrustRemoteCode, "--trust-remote-code", "Passed as --trust-remote-code."),
    ];

    protected override void AddArguments(List<string> arguments, Profile profile, ResolvedModel model)
    {
        arguments.AddRange(["--model", model.Reference, "--host", profile.Host, "--port", Number(profile.Port)]);
        arguments.AddRange(["--max-tokens", Number(profile.MaxTokens)]);
        AddOption(arguments, "--temp", profile.Temperature);
        AddOption(arguments, "--top-p", profile.TopP);
        AddOption(arguments, "--top-k", profile.TopK);
        AddOption(arguments, "--min-p", profile.MinP);
        if (profile.Thinking != ThinkingMode.Default)
        {
            arguments.Add("--chat-template-args");
            arguments.Add(Json(new JsonObject { ["enable_thinking"] = profile.Thinking == ThinkingMode.On }));
        }

        if (profile.TrustRemoteCode)
        {
            arguments.Add("--trust-remote-code");
        }
    }
}
