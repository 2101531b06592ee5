using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.Core.Tests.Engines;

namespace MlxManager.Core.Tests.Profiles;

public class ProfileValidatorTests
{
    private readonly ProfileValidator _validator = new(EngineRegistry.Discover());

    private static Profile Valid(string engine = MlxLmServer.EngineKey) => ProfileSamples.Minimal(engine);

    [Fact]
    public void Validate_AMinimalProfile_HasNoErrorsOrWarnings()
    {
        var result = _validator.Validate(Valid());

        result.IsValid.ShouldBeTrue();
        result.Errors.ShouldBeEmpty();
        result.Warnings.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(MlxLmServer.EngineKey)]
    [InlineData(MlxVlmServer.EngineKey)]
    [InlineData(MlxOpenAiServer.EngineKey)]
    public void Validate_AProfileWithEveryFieldTheEngineTakes_IsValid(string engine)
    {
        var result = _validator.Validate(ProfileSamples.Full(engine), new ProfileModelFacts(ContextWindow: 40960, Thinks: true));

        result.Errors.ShouldBeEmpty();
        result.WarningsFor(ProfileField.TrustRemoteCode).ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Validate_WhenPortIsOutOfRange_ReportsTheRange(int port)
    {
        var profile = Valid();
        profile.Port = port;

        _validator.Validate(profile).ErrorsFor(ProfileField.Port)
            .ShouldBe([$"Port {port} is out of range: use 1–65535 (e.g. 8080)."]);
    }

    [Fact]
    public void Validate_WhenPortIsPrivileged_Warns()
    {
        var profile = Valid();
        profile.Port = 80;

        var result = _validator.Validate(profile);

        result.IsValid.ShouldBeTrue();
        result.WarningsFor(ProfileField.Port).ShouldHaveSingleItem().ShouldContain("below 1024");
    }

    [Theory]
    [InlineData("0.0.0.0", "every network interface")]
    [InlineData("::", "every network interface")]
    [InlineData("192.168.1.20", "not a loopback address")]
    [InlineData("studio.local", "not a loopback address")]
    public void Validate_WhenHostIsReachableFromOtherMachines_Warns(string host, string expected)
    {
        var profile = Valid();
        profile.Host = host;

        var result = _validator.Validate(profile);

        result.IsValid.ShouldBeTrue();
        result.WarningsFor(ProfileField.Host).ShouldHaveSingleItem().ShouldContain(expected);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("localhost")]
    public void Validate_WhenHostIsLoopback_DoesNotWarn(string host)
    {
        var profile = Valid();
        profile.Host = host;

        _validator.Validate(profile).Warnings.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("", "Give the address to listen on")]
    [InlineData("bad host", "is neither an IP address nor a host name")]
    [InlineData("-bad.example", "is neither an IP address nor a host name")]
    [InlineData("http://127.0.0.1", "is neither an IP address nor a host name")]
    public void Validate_WhenHostIsNotAnAddress_Fails(string host, string expected)
    {
        var profile = Valid();
        profile.Host = host;

        _validator.Validate(profile).ErrorsFor(ProfileField.Host).ShouldHaveSingleItem().ShouldContain(expected);
    }

    [Fact]
    public void Validate_WhenNameOrModelIsMissing_SaysWhatToDo()
    {
        var profile = Valid();
        profile.Name = "  ";
        profile.ModelRef = "";

        var result = _validator.Validate(profile);

        result.ErrorsFor(ProfileField.Name).ShouldBe(["Give the profile a name."]);
        result.ErrorsFor(ProfileField.ModelRef).ShouldBe(["Choose a model: a downloaded one, or a folder that holds one."]);
    }

    [Theory]
    [InlineData("mlx-community/Qwen3-4B-4bit", null)]
    [InlineData("Qwen3-4B", "neither a Hugging Face repo id")]
    [InlineData("a/b/c", "neither a Hugging Face repo id")]
    [InlineData("relative/../x", "neither a Hugging Face repo id")]
    [InlineData("./models/x", "not an absolute folder path")]
    [InlineData("/definitely/not/here/model", "The folder /definitely/not/here/model does not exist.")]
    public void Validate_ModelRef_MustBeARepoIdOrAnExistingAbsoluteFolder(string modelRef, string? expected)
    {
        var profile = Valid();
        profile.ModelRef = modelRef;

        var errors = _validator.Validate(profile).ErrorsFor(ProfileField.ModelRef);

        if (expected is null)
        {
            errors.ShouldBeEmpty();
        }
        else
        {
            errors.ShouldHaveSingleItem().ShouldContain(expected);
        }
    }

    [Fact]
    public void Validate_ModelRef_AcceptsAnExistingFolder()
    {
        var folder = Directory.CreateTempSubdirectory("profile-model-");
        try
        {
            var profile = Valid();
            profile.ModelRef = folder.FullName;

            _validator.Validate(profile).ErrorsFor(ProfileField.ModelRef).ShouldBeEmpty();
        }
        finally
        {
            folder.Delete();
        }
    }

    [Fact]
    public void Validate_WhenEngineIsUnknown_ListsTheKnownOnes()
    {
        var profile = Valid("llama-server");

        _validator.Validate(profile).ErrorsFor(ProfileField.Engine).ShouldBe(
            ["Unknown engine \"llama-server\". Choose one of: mlx_lm.server, mlx_vlm.server, mlx-openai-server."]);
    }

    [Fact]
    public void Validate_WhenContextExceedsTheModelsWindow_Fails()
    {
        var profile = Valid();
        profile.ContextLength = 65536;

        _validator.Validate(profile, new ProfileModelFacts(ContextWindow: 32768)).ErrorsFor(ProfileField.ContextLength)
            .ShouldBe(["A context of 65,536 tokens is beyond the model's window of 32,768 tokens."]);
    }

    [Fact]
    public void Validate_WhenTheModelsWindowIsUnknown_AcceptsAnyPositiveContext()
    {
        var profile = Valid();
        profile.ContextLength = 1_000_000;
        profile.MaxTokens = 4096;

        _validator.Validate(profile).IsValid.ShouldBeTrue();
    }

    [Fact]
    public void Validate_WhenMaxTokensLeavesNoRoomForThePrompt_Fails()
    {
        var profile = Valid();
        profile.ContextLength = 4096;
        profile.MaxTokens = 4096;

        _validator.Validate(profile).ErrorsFor(ProfileField.MaxTokens).ShouldHaveSingleItem().ShouldContain("to leave room for the prompt");
    }

    [Fact]
    public void Validate_WhenAThinkingModelHasFewMaxTokens_WarnsThatAnswersMayBeCut()
    {
        var profile = Valid();
        profile.MaxTokens = 4096;

        var result = _validator.Validate(profile, new ProfileModelFacts(Thinks: true));

        result.IsValid.ShouldBeTrue();
        result.WarningsFor(ProfileField.MaxTokens).ShouldHaveSingleItem().ShouldContain("answers may be cut off");
    }

    [Fact]
    public void Validate_WhenThinkingIsOff_DoesNotWarnAboutMaxTokens()
    {
        var profile = Valid();
        profile.Thinking = ThinkingMode.Off;

        _validator.Validate(profile, new ProfileModelFacts(Thinks: true)).WarningsFor(ProfileField.MaxTokens).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_WhenThinkingIsSetForAModelThatCannotThink_Warns()
    {
        var profile = Valid();
        profile.Thinking = ThinkingMode.On;

        _validator.Validate(profile, new ProfileModelFacts(Thinks: false)).WarningsFor(ProfileField.Thinking).ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData(nameof(Profile.Temperature), -0.1)]
    [InlineData(nameof(Profile.Temperature), 2.5)]
    [InlineData(nameof(Profile.TopP), 0.0)]
    [InlineData(nameof(Profile.TopP), 1.5)]
    [InlineData(nameof(Profile.MinP), -0.5)]
    [InlineData(nameof(Profile.RepetitionPenalty), 0.0)]
    [InlineData(nameof(Profile.RepetitionPenalty), double.NaN)]
    public void Validate_WhenASamplingValueIsOutOfRange_FailsOnThatField(string property, double value)
    {
        var profile = Valid();
        typeof(Profile).GetProperty(property)!.SetValue(profile, value);

        _validator.Validate(profile).Errors.Keys.ShouldBe([property]);
    }

    [Fact]
    public void Validate_WhenTopKIsNegative_Fails()
    {
        var profile = Valid();
        profile.TopK = -1;

        _validator.Validate(profile).ErrorsFor(ProfileField.TopK).ShouldHaveSingleItem();
    }

    [Fact]
    public void Validate_WhenTheEngineHasNoParserOption_AsksToClearIt()
    {
        var profile = Valid(MlxLmServer.EngineKey);
        profile.ToolCallParser = "qwen3";

        _validator.Validate(profile).ErrorsFor(ProfileField.ToolCallParser).ShouldHaveSingleItem()
            .ShouldStartWith("mlx_lm.server has no tool-call parser option");
    }

    [Fact]
    public void Validate_WhenAParserIsUnknownToTheManager_WarnsButAccepts()
    {
        var profile = Valid(MlxOpenAiServer.EngineKey);
        profile.ReasoningParser = "deepseek_r9";

        var result = _validator.Validate(profile);

        result.IsValid.ShouldBeTrue();
        result.WarningsFor(ProfileField.ReasoningParser).ShouldHaveSingleItem().ShouldContain("check the engine's --help");
    }

    [Fact]
    public void Validate_WhenTrustRemoteCodeIsOn_Warns()
    {
        var profile = Valid();
        profile.TrustRemoteCode = true;

        _validator.Validate(profile).WarningsFor(ProfileField.TrustRemoteCode).ShouldHaveSingleItem().ShouldContain("run its own Python code");
    }

    [Fact]
    public void Validate_WhenExtraArgumentsHaveUnbalancedQuotes_ReportsTheParseError()
    {
        var profile = Valid();
        profile.ExtraArguments = "--chat-template 'oops";

        _validator.Validate(profile).ErrorsFor(ProfileField.ExtraArguments)
            .ShouldBe(["Unbalanced single quote at position 17: every ' needs a closing '."]);
    }

    [Theory]
    [InlineData("--host 0.0.0.0", "--host is set from the Host field; change it there instead.")]
    [InlineData("--port=9000", "--port=9000 is set from the Port field; change it there instead.")]
    [InlineData("--ho 0.0.0.0", "--ho is set from the Host field; change it there instead.")]
    [InlineData("--max-tokens 100", "--max-tokens is set from the Max tokens field; change it there instead.")]
    public void Validate_WhenExtraArgumentsRepeatAFlagTheManagerSets_PointsAtTheField(string extra, string expected)
    {
        var profile = Valid();
        profile.ExtraArguments = extra;

        _validator.Validate(profile).ErrorsFor(ProfileField.ExtraArguments).ShouldBe([expected]);
    }

    [Fact]
    public void Validate_WhenExtraArgumentsUseAReservedFlag_Refuses()
    {
        var profile = Valid(MlxOpenAiServer.EngineKey);
        profile.ExtraArguments = "--served-model-name other";

        _validator.Validate(profile).ErrorsFor(ProfileField.ExtraArguments)
            .ShouldBe(["--served-model-name is set by the manager itself and cannot be changed here."]);
    }

    [Fact]
    public void Validate_ChatTemplateArgsInExtraArguments_IsFineWhileThinkingIsLeftToTheModel()
    {
        var profile = Valid();
        profile.ExtraArguments = "--chat-template-args '{\"reasoning_effort\":\"high\"}'";

        _validator.Validate(profile).IsValid.ShouldBeTrue();

        profile.Thinking = ThinkingMode.Off;
        _validator.Validate(profile).ErrorsFor(ProfileField.ExtraArguments).ShouldHaveSingleItem().ShouldContain("Thinking field");
    }

    [Fact]
    public void Validate_WhenEnvironmentVariablesAreMalformed_ListsEachBadLine()
    {
        var profile = Valid();
        profile.EnvironmentVariables = "GOOD=1\nbad-name=2\nNOEQUALS";

        _validator.Validate(profile).ErrorsFor(ProfileField.EnvironmentVariables).Count.ShouldBe(2);
    }

    [Fact]
    public void Validate_WhenEnvironmentChangesNativeLoading_Warns()
    {
        var profile = Valid();
        profile.EnvironmentVariables = "DYLD_INSERT_LIBRARIES=/tmp/x.dylib";

        _validator.Validate(profile).WarningsFor(ProfileField.EnvironmentVariables).ShouldHaveSingleItem();
    }

    [Fact]
    public void Merge_CombinesValidationWithTheUniquenessCheck()
    {
        var profile = Valid();
        profile.Port = 0;

        var result = _validator.Validate(profile)
            .Merge(ProfileRules.CheckUniqueness(profile, [new Profile { Id = 9, Name = profile.Name, Port = 1 }]));

        result.Errors.Keys.Order().ShouldBe([nameof(Profile.Name), nameof(Profile.Port)]);
    }

    [Fact]
    public void GatewayNames_WithSpacesRepeatsOrTheProfilesOwnName_AreRefusedOneByOne()
    {
        var profile = Valid();
        profile.Name = "qwen3-4b";
        profile.GatewayNames = "qwen fast, coder,\nCODER, QWEN3-4B";

        _validator.Validate(profile).ErrorsFor(ProfileField.GatewayNames).ShouldBe(
        [
            "The gateway name \"qwen fast\" may hold only letters, digits and - _ . : / @ (no spaces); separate names with commas.",
            "The gateway name \"coder\" is listed twice.",
            "\"QWEN3-4B\" is already this profile's name; clients can use it without listing it here.",
        ]);
    }

    [Fact]
    public void GatewayLimits_OutOfRange_AreRefused()
    {
        var profile = Valid();
        profile.UnloadAfterIdleMinutes = -1;
        profile.MaxConcurrentRequests = 0;

        var result = _validator.Validate(profile);

        result.ErrorsFor(ProfileField.UnloadAfterIdleMinutes).ShouldHaveSingleItem();
        result.ErrorsFor(ProfileField.MaxConcurrentRequests).ShouldBe(["Max concurrent requests goes from 1 to 1024."]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(86_401)]
    public void LoadTimeout_OutOfRange_IsRefused(int seconds)
    {
        var profile = Valid();
        profile.LoadTimeoutSeconds = seconds;

        var result = _validator.Validate(profile);

        result.ErrorsFor(ProfileField.LoadTimeoutSeconds).ShouldBe(["Load timeout is a number of seconds from 1 to 86400 (a day); leave it empty for the manager's default."]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1)]
    [InlineData(86_400)]
    public void LoadTimeout_EmptyOrInRange_IsAccepted(int? seconds)
    {
        var profile = Valid();
        profile.LoadTimeoutSeconds = seconds;

        _validator.Validate(profile).ErrorsFor(ProfileField.LoadTimeoutSeconds).ShouldBeEmpty();
    }
}
