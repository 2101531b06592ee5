using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Engines;

public class MlxVlmServerTests
{
    private readonly MlxVlmServer _engine = new();
    private readonly ResolvedModel _model = new("/models/Qwen2.5-VL-3B-Instruct-4bit", IsMultimodal: true);

    [Fact]
    public void BuildArguments_ForAMinimalProfile_AlwaysPassesHostBecauseTheEngineDefaultsToAllInterfaces()
    {
        _engine.BuildArguments(ProfileSamples.Minimal(_engine.Key), _model).ShouldBe([
            "--model", "/models/Qwen2.5-VL-3B-Instruct-4bit", "--host", "127.0.0.1", "--port", "8081", "--max-tokens", "4096",
        ]);
    }

    [Fact]
    public void BuildArguments_ForEveryField_UsesOnlyFlagsTheEngineHas()
    {
        var profile = ProfileSamples.Full(_engine.Key);
        profile.Thinking = ThinkingMode.On;

        _engine.BuildArguments(profile, _model).ShouldBe([
            "--model", "/models/Qwen2.5-VL-3B-Instruct-4bit", "--host", "127.0.0.1", "--port", "8082",
            "--max-tokens", "16384",
            "--max-kv-size", "32768",
            "--enable-thinking",
            "--trust-remote-code",
            "--log-level", "DEBUG",
        ]);
    }

    [Theory]
    [InlineData(ThinkingMode.Off)]
    [InlineData(ThinkingMode.Default)]
    public void BuildArguments_WhenThinkingIsNotOn_LeavesTheFlagOut(ThinkingMode mode)
    {
        var profile = ProfileSamples.Minimal(_engine.Key);
        profile.Thinking = mode;

        _engine.BuildArguments(profile, _model).ShouldNotContain("--enable-thinking");
    }

    [Fact]
    public void BuildRequestDefaults_CarriesTheSamplingFieldsTheEngineTakesOnlyPerRequest()
    {
        var defaults = _engine.BuildRequestDefaults(ProfileSamples.Full(_engine.Key));

        defaults.ToJsonString().ShouldBe("{\"temperature\":0.6,\"top_p\":0.95,\"top_k\":20,\"min_p\":0.05,\"repetition_penalty\":1.1}");
    }

    [Fact]
    public void BuildRequestDefaults_LeavesOutFieldsThatAreNotSet()
    {
        _engine.BuildRequestDefaults(ProfileSamples.Minimal(_engine.Key)).Count.ShouldBe(0);
    }

    [Theory]
    [InlineData(200, "{\"status\":\"healthy\",\"loaded_model\":\"mlx-community/Qwen2.5-VL-3B-Instruct-4bit\"}", HealthVerdict.Loaded)]
    [InlineData(200, "{\"status\":\"healthy\",\"loaded_model\":null}", HealthVerdict.Loading)]
    [InlineData(200, "{\"status\":\"healthy\"}", HealthVerdict.Unknown)]
    [InlineData(200, "not json", HealthVerdict.Unknown)]
    [InlineData(500, "{\"loaded_model\":\"x\"}", HealthVerdict.Unknown)]
    public void InterpretHealth_ReadsLoadedModel(int status, string body, HealthVerdict expected)
    {
        _engine.InterpretHealth(status, body).ShouldBe(expected);
    }
}
