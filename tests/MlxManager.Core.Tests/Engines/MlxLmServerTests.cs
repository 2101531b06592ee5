using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Engines;

public class MlxLmServerTests
{
    private readonly MlxLmServer _engine = new();
    private readonly ResolvedModel _model = new("mlx-community/Qwen3-4B-4bit");

    [Fact]
    public void BuildArguments_ForAMinimalProfile_PassesModelHostPortAndMaxTokensExplicitly()
    {
        _engine.BuildArguments(ProfileSamples.Minimal(_engine.Key), _model).ShouldBe([
            "--model", "mlx-community/Qwen3-4B-4bit", "--host", "127.0.0.1", "--port", "8081", "--max-tokens", "4096",
        ]);
    }

    [Fact]
    public void BuildArguments_ForEveryField_UsesTheEnginesOwnFlagsAndAppendsExtraArgumentsLast()
    {
        _engine.BuildArguments(ProfileSamples.Full(_engine.Key), _model).ShouldBe([
            "--model", "mlx-community/Qwen3-4B-4bit", "--host", "127.0.0.1", "--port", "8082",
            "--max-tokens", "16384",
            "--temp", "0.6", "--top-p", "0.95", "--top-k", "20", "--min-p", "0.05",
            "--chat-template-args", "{\"enable_thinking\":false}",
            "--trust-remote-code",
            "--log-level", "DEBUG",
        ]);
    }

    [Theory]
    [InlineData(ThinkingMode.On, "{\"enable_thinking\":true}")]
    [InlineData(ThinkingMode.Off, "{\"enable_thinking\":false}")]
    public void BuildArguments_WhenThinkingIsChosen_PassesItAsChatTemplateArgs(ThinkingMode mode, string json)
    {
        var profile = ProfileSamples.Minimal(_engine.Key);
        profile.Thinking = mode;

        var arguments = _engine.BuildArguments(profile, _model);

        arguments[arguments.ToList().IndexOf("--chat-template-args") + 1].ShouldBe(json);
    }

    [Fact]
    public void BuildArguments_WhenThinkingIsDefault_LeavesTheTemplateAlone()
    {
        _engine.BuildArguments(ProfileSamples.Minimal(_engine.Key), _model).ShouldNotContain("--chat-template-args");
    }

    [Fact]
    public void BuildArguments_DoesNotInventFlagsTheEngineLacks()
    {
        var arguments = _engine.BuildArguments(ProfileSamples.Full(_engine.Key), _model);

        arguments.ShouldNotContain("--context-length");
        arguments.ShouldNotContain("--max-kv-size");
        arguments.ShouldNotContain("--repetition-penalty");
        arguments.ShouldNotContain("--system-prompt");
    }

    [Fact]
    public void BuildArguments_FormatsNumbersForPythonWhateverTheCulture()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var profile = ProfileSamples.Minimal(_engine.Key);
            profile.Temperature = 0.7;
            profile.MaxTokens = 12000;

            var arguments = _engine.BuildArguments(profile, _model);

            arguments.ShouldContain("0.7");
            arguments.ShouldContain("12000");
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }

    [Fact]
    public void BuildRequestDefaults_SendsRepetitionPenaltyPerRequest()
    {
        var defaults = _engine.BuildRequestDefaults(ProfileSamples.Full(_engine.Key));

        defaults.ToJsonString().ShouldBe("{\"repetition_penalty\":1.1}");
    }

    [Fact]
    public void Describe_ContextLength_IsAManagerSideCheckBecauseTheEngineHasNoFlag()
    {
        var support = _engine.Describe(ProfileField.ContextLength);

        support.Route.ShouldBe(FieldRoute.Manager);
        support.Explanation.ShouldContain("no context-length option");
    }

    [Fact]
    public void InterpretHealth_ProvesNothing_BecauseTheEngineAnswersBeforeLoading()
    {
        _engine.InterpretHealth(200, "{\"status\": \"ok\"}").ShouldBe(HealthVerdict.Unknown);
        _engine.BuildReadinessProbe(_model).HealthMeaning.ShouldContain("proves nothing");
    }

    [Fact]
    public void CreateFatalLogWatcher_RecognisesTheGenerationThreadDying()
    {
        var watcher = _engine.CreateFatalLogWatcher();

        watcher.ShouldBeOfType<PythonThreadCrashWatcher>();
    }
}
