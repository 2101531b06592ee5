using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Engines;

/// <summary>Profiles used across engine tests: a minimal one and one with every field set.</summary>
internal static class ProfileSamples
{
    public static Profile Minimal(string engine) => new()
    {
        Name = "Qwen3 4B",
        ModelRef = "mlx-community/Qwen3-4B-4bit",
        Engine = engine,
        Host = "127.0.0.1",
        Port = 8081,
    };

    public static Profile Full(string engine) => new()
    {
        Name = "Everything set",
        Description = "All fields",
        ModelRef = "mlx-community/Qwen3-4B-4bit",
        Engine = engine,
        Host = "127.0.0.1",
        Port = 8082,
        ContextLength = 32768,
        MaxTokens = 16384,
        Temperature = 0.6,
        TopP = 0.95,
        TopK = 20,
        MinP = 0.05,
        RepetitionPenalty = 1.1,
        Thinking = ThinkingMode.Off,
        ToolCallParser = engine == "mlx-openai-server" ? "qwen3" : null,
        ReasoningParser = engine == "mlx-openai-server" ? "qwen3" : null,
        TrustRemoteCode = true,
        SystemPrompt = "You are terse.",
        ExtraArguments = "--log-level DEBUG",
        EnvironmentVariables = "HF_HUB_OFFLINE=1",
        AutoStart = true,
    };
}
