using System.Text.Json;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Engines;

/// <summary>Rules every engine definition must keep, checked for each discovered engine.</summary>
public class EngineDefinitionTests
{
    public static TheoryData<string> EngineKeys => new(EngineRegistry.Discover().All.Select(e => e.Key));

    private static IEngineDefinition Engine(string key) => EngineRegistry.Discover().Get(key);

    // A profile that sets every field the engine can take, with thinking on so that flag-style switches appear.
    private static Profile FullProfile(IEngineDefinition engine)
    {
        var profile = ProfileSamples.Full(engine.Key);
        profile.Thinking = ThinkingMode.On;
        profile.ToolCallParser = engine.Describe(ProfileField.ToolCallParser).IsSupported ? "qwen3" : null;
        profile.ReasoningParser = engine.Describe(ProfileField.ReasoningParser).IsSupported ? "qwen3" : null;
        return profile;
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void Describe_SaysHowEveryProfileFieldIsUsed(string key)
    {
        var engine = Engine(key);

        foreach (var field in Enum.GetValues<ProfileField>())
        {
            var support = engine.Describe(field);
            support.Field.ShouldBe(field);
            support.Explanation.ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildArguments_EveryFieldRoutedToAFlag_ReachesTheEngineAsThatFlag(string key)
    {
        var engine = Engine(key);
        var arguments = engine.BuildArguments(FullProfile(engine), new ResolvedModel("mlx-community/Qwen3-4B-4bit"));

        foreach (var field in Enum.GetValues<ProfileField>())
        {
            var support = engine.Describe(field);
            if (support is { Route: FieldRoute.EngineArgument, Flag: { } flag })
            {
                arguments.ShouldContain(flag, $"{field} should reach {key} as {flag}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildRequestDefaults_EveryFieldRoutedToRequests_IsSentWithEachRequest(string key)
    {
        var engine = Engine(key);
        var defaults = JsonDocument.Parse(engine.BuildRequestDefaults(FullProfile(engine)).ToJsonString()).RootElement;

        foreach (var field in Enum.GetValues<ProfileField>())
        {
            if (engine.Describe(field) is { Route: FieldRoute.RequestDefault, RequestField: { } path })
            {
                var node = defaults;
                foreach (var part in path.Split('.'))
                {
                    node.TryGetProperty(part, out node).ShouldBeTrue($"{field} should be sent to {key} as {path}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildArguments_UnsupportedFields_ChangeNothing(string key)
    {
        var engine = Engine(key);
        var model = new ResolvedModel("mlx-community/Qwen3-4B-4bit");
        var without = ProfileSamples.Minimal(key);
        var with = ProfileSamples.Minimal(key);
        foreach (var field in Enum.GetValues<ProfileField>().Where(f => !engine.Describe(f).IsSupported))
        {
            switch (field)
            {
                case ProfileField.ToolCallParser:
                    with.ToolCallParser = "qwen3";
                    break;
                case ProfileField.ReasoningParser:
                    with.ReasoningParser = "qwen3";
                    break;
                default:
                    throw new InvalidOperationException($"Add {field} to this test.");
            }
        }

        engine.BuildArguments(with, model).ShouldBe(engine.BuildArguments(without, model));
        engine.BuildRequestDefaults(with).ToJsonString().ShouldBe(engine.BuildRequestDefaults(without).ToJsonString());
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildArguments_AlwaysPassesHostAndPortExplicitly(string key)
    {
        var profile = ProfileSamples.Minimal(key);
        profile.Host = "::1";
        profile.Port = 9123;

        var arguments = Engine(key).BuildArguments(profile, new ResolvedModel("a/b")).ToList();

        arguments[arguments.IndexOf("--host") + 1].ShouldBe("::1");
        arguments[arguments.IndexOf("--port") + 1].ShouldBe("9123");
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildArguments_KeepsExtraArgumentsAsSeparateWords(string key)
    {
        var profile = ProfileSamples.Minimal(key);
        profile.ExtraArguments = "--chat-template '{{ messages }}' --draft-model \"/models/my draft\"";

        Engine(key).BuildArguments(profile, new ResolvedModel("a/b")).TakeLast(4)
            .ShouldBe(["--chat-template", "{{ messages }}", "--draft-model", "/models/my draft"]);
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildArguments_WhenExtraArgumentsDoNotParse_Throws(string key)
    {
        var profile = ProfileSamples.Minimal(key);
        profile.ExtraArguments = "--x 'open";

        Should.Throw<FormatException>(() => Engine(key).BuildArguments(profile, new ResolvedModel("a/b")))
            .Message.ShouldContain("Unbalanced single quote");
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildEnvironment_MakesPythonUnbufferedAndLetsTheProfileOverride(string key)
    {
        var profile = ProfileSamples.Minimal(key);
        var engine = Engine(key);

        engine.BuildEnvironment(profile).ShouldBe(new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" });

        profile.EnvironmentVariables = "HF_HUB_OFFLINE=1\nPYTHONUNBUFFERED=0";
        engine.BuildEnvironment(profile).ShouldBe(new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "0", ["HF_HUB_OFFLINE"] = "1" });
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void BuildReadinessProbe_IsAOneTokenChatCompletionForTheProfilesModel(string key)
    {
        var probe = Engine(key).BuildReadinessProbe(new ResolvedModel("mlx-community/Qwen3-4B-4bit"));

        probe.HealthPath.ShouldBe("/health");
        probe.CompletionPath.ShouldBe("/v1/chat/completions");
        var body = JsonDocument.Parse(probe.CompletionBody).RootElement;
        body.GetProperty("model").GetString().ShouldBe("mlx-community/Qwen3-4B-4bit");
        body.GetProperty("max_tokens").GetInt32().ShouldBe(1);
        body.GetProperty("stream").GetBoolean().ShouldBeFalse();
        body.GetProperty("messages")[0].GetProperty("role").GetString().ShouldBe("user");
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void FlagsSetByManager_CoversModelHostAndPort(string key)
    {
        var engine = Engine(key);
        var flags = engine.FlagsSetByManager(ProfileSamples.Minimal(key));

        flags.ShouldContain(engine.Describe(ProfileField.ModelRef).Flag!);
        flags.ShouldContain("--host");
        flags.ShouldContain("--port");
    }

    [Theory]
    [MemberData(nameof(EngineKeys))]
    public void Definition_NamesItsExecutableAndInstallCommand(string key)
    {
        var engine = Engine(key);

        engine.ExecutableName.ShouldNotBeNullOrWhiteSpace();
        engine.InstallHint.ShouldStartWith("pip install ");
        engine.DisplayName.ShouldContain(engine.Key);
    }
}
