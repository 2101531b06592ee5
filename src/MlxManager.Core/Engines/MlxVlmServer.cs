using System.Text.Json;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>
/// <c>mlx_vlm.server</c> (package mlx-vlm): vision and multimodal models.
/// <para>
/// Quirks: it binds to 0.0.0.0 unless told otherwise, so <c>--host</c> is always passed. It has no
/// sampling flags (temperature, top-p, top-k, min-p, repetition penalty are per request, so the manager
/// sends them), thinking is off unless <c>--enable-thinking</c> is given, and the tool parser is detected
/// from the model. <c>/health</c> reports <c>loaded_model</c>. A failed load ends the process.
/// </para>
/// </summary>
public sealed class MlxVlmServer : EngineDefinition
{
    public const string EngineKey = "mlx_vlm.server";

    private const string PerRequest = "mlx_vlm.server has no start-up flag for it; the manager sends {0} with each request.";

    public override string Key => EngineKey;

    public override string DisplayName => "mlx_vlm.server (MLX VLM, vision)";

    public override string ExecutableName => "mlx_vlm.server";

    public override string InstallHint => "pip install mlx-vlm";

    public override bool AcceptsImages => true;

    public override int SuggestionOrder => 1;

    protected override string HealthMeaning =>
        "mlx_vlm.server's /health names the loaded model in loaded_model: set means loaded, null means not yet.";

    public override HealthVerdict InterpretHealth(int statusCode, string body)
    {
        if (statusCode != 200)
        {
            return HealthVerdict.Unknown;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("loaded_model", out var loaded))
            {
                return HealthVerdict.Unknown;
            }

            return loaded.ValueKind == JsonValueKind.String && loaded.GetString()!.Length > 0
                ? HealthVerdict.Loaded
                : HealthVerdict.Loading;
        }
        catch (JsonException)
        {
            // Not the JSON this engine sends: the answer tells nothing about the model.
            return HealthVerdict.Unknown;
        }
    }

    protected override IEnumerable<FieldSupport> DescribeEngineFields() =>
    [
        FieldSupport.Argument(ProfileField.ModelRef, "--model", "Passed as --model (an HF repo id from the cache, or a folder)."),
        FieldSupport.Argument(ProfileField.Host, "--host", "Passed as --host (the engine's own default is 0.0.0.0)."),
        FieldSupport.Argument(ProfileField.Port, "--port", "Passed as --port."),
        FieldSupport.Argument(ProfileField.ContextLength, "--max-kv-size", "Passed as --max-kv-size: the KV cache holds at most this many tokens."),
        FieldSupport.Argument(ProfileField.MaxTokens, "--max-tokens", "Passed as --max-tokens."),
        FieldSupport.Request(ProfileField.Temperature, "temperature", string.Format(PerRequest, "temperature")),
        FieldSupport.Request(ProfileField.TopP, "top_p", string.Format(PerRequest, "top_p")),
        FieldSupport.Request(ProfileField.TopK, "top_k", string.Format(PerRequest, "top_k")),
        FieldSupport.Request(ProfileField.MinP, "min_p", string.Format(PerRequest, "min_p")),
        FieldSupport.Request(ProfileField.RepetitionPenalty, "repetition_penalty", string.Format(PerRequest, "repetition_penalty")),
        FieldSupport.Argument(
            ProfileField.Thinking,
            "--enable-thinking",
            "On is passed as --enable-thinking; Off and Default leave it out (the engine's default is off)."),
        FieldSupport.Unsupported(ProfileField.ToolCallParser, "mlx_vlm.server detects the tool parser from the model; it has no option to choose one."),
        FieldSupport.Unsupported(ProfileField.ReasoningParser, "mlx_vlm.server has no reasoning-parser option."),
        FieldSupport.Argument(ProfileField.TrustRemoteCode, "--trust-remote-code", "Passed as --trust-remote-code."),
    ];

    protected override void AddArguments(List<string> arguments, Profile profile, ResolvedModel model)
    {
        arguments.AddRange(["--model", model.Reference, "--host", profile.Host, "--port", Number(profile.Port)]);
        arguments.AddRange(["--max-tokens", Number(profile.MaxTokens)]);
        AddOption(arguments, "--max-kv-size", profile.ContextLength);
        if (profile.Thinking == ThinkingMode.On)
        {
            arguments.Add("--enable-thinking");
        }

        if (profile.TrustRemoteCode)
        {
            arguments.Add("--trust-remote-code");
        }
    }
}
