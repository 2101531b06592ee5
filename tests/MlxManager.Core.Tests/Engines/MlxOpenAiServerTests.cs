using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Engines;

public class MlxOpenAiServerTests
{
    private readonly MlxOpenAiServer _engine = new();

    [Fact]
    public void BuildArguments_ForATextModel_LaunchesItAsAnLmWithoutALogFile()
    {
        _engine.BuildArguments(ProfileSamples.Minimal(_engine.Key), new ResolvedModel("mlx-community/Qwen3-4B-4bit")).ShouldBe([
            "launch", "--model-path", "mlx-community/Qwen3-4B-4bit", "--model-type", "lm",
            "--host", "127.0.0.1", "--port", "8081", "--no-log-file", "--max-tokens", "4096",
        ]);
    }

    [Fact]
    public void BuildArguments_ForAVisionModel_LaunchesItAsMultimodal()
    {
        var arguments = _engine.BuildArguments(ProfileSamples.Minimal(_engine.Key), new ResolvedModel("/m/vl", IsMultimodal: true));

        arguments.Take(5).ShouldBe(["launch", "--model-path", "/m/vl", "--model-type", "multimodal"]);
    }

    [Fact]
    public void BuildArguments_ForEveryField_UsesTheEnginesOwnFlagsAndAppendsExtraArgumentsLast()
    {
        _engine.BuildArguments(ProfileSamples.Full(_engine.Key), new ResolvedModel("mlx-community/Qwen3-4B-4bit")).ShouldBe([
            "launch", "--model-path", "mlx-community/Qwen3-4B-4bit", "--model-type", "lm",
            "--host", "127.0.0.1", "--port", "8082", "--no-log-file",
            "--max-tokens", "16384",
            "--context-length", "32768",
            "--temperature", "0.6", "--top-p", "0.95", "--top-k", "20", "--min-p", "0.05",
            "--repetition-penalty", "1.1",
            "--tool-call-parser", "qwen3", "--enable-auto-tool-choice",
            "--reasoning-parser", "qwen3",
            "--trust-remote-code",
            "--log-level", "DEBUG",
        ]);
    }

    [Theory]
    [InlineData(ThinkingMode.On, "{\"chat_template_kwargs\":{\"enable_thinking\":true}}")]
    [InlineData(ThinkingMode.Off, "{\"chat_template_kwargs\":{\"enable_thinking\":false}}")]
    [InlineData(ThinkingMode.Default, "{}")]
    public void BuildRequestDefaults_SwitchesThinkingPerRequest(ThinkingMode mode, string expected)
    {
        var profile = ProfileSamples.Minimal(_engine.Key);
        profile.Thinking = mode;

        _engine.BuildRequestDefaults(profile).ToJsonString().ShouldBe(expected);
        _engine.BuildArguments(profile, new ResolvedModel("m/x")).ShouldNotContain(a => a.Contains("thinking"));
    }

    [Theory]
    [InlineData(503, HealthVerdict.Loading)]
    [InlineData(200, HealthVerdict.Loaded)]
    [InlineData(404, HealthVerdict.Unknown)]
    public void InterpretHealth_Reads503AsLoadingAnd200AsLoaded(int status, HealthVerdict expected)
    {
        _engine.InterpretHealth(status, "{\"status\":\"unhealthy\"}").ShouldBe(expected);
    }

    [Fact]
    public void FlagsSetByManager_ReservesTheServedModelName_SoTheProbeKeepsMatching()
    {
        _engine.FlagsSetByManager(ProfileSamples.Minimal(_engine.Key)).ShouldContain("--served-model-name");
    }
}
