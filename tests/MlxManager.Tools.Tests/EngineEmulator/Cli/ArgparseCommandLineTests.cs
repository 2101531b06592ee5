using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Cli;

namespace MlxManager.Tools.Tests.EngineEmulator.Cli;

/// <summary>argparse behaviour as documented for Python's ArgumentParser (allow_abbrev=True, exit 2 on errors),
/// checked against mlx_lm.server's and mlx_vlm.server's declared options.</summary>
public sealed class ArgparseCommandLineTests
{
    [Fact]
    public void Parse_NoArguments_GivesTheDocumentedDefaults()
    {
        var (options, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, []);

        outcome.ExitCode.ShouldBe(0);
        options!.Host.ShouldBe("127.0.0.1");
        options.Port.ShouldBe(8080);
        options.DefaultMaxTokens.ShouldBe(512);
        options.Model.ShouldBeNull();
        options.Raw.Int("num_draft_tokens").ShouldBe(3);
        options.Raw.Float("temp").ShouldBe(0.0);
        options.Raw.Int("decode_concurrency").ShouldBe(32);
        options.Raw.Int("prompt_concurrency").ShouldBe(8);
        options.Raw.Int("prefill_step_size").ShouldBe(2048);
        options.Raw.Int("prompt_cache_size").ShouldBe(10);
    }

    [Fact]
    public void Parse_VlmDefaults_HostIsAllInterfaces()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.MlxVlm, []);

        options!.Host.ShouldBe("0.0.0.0");
        options.Port.ShouldBe(8080);
        options.EnableThinking.ShouldBeFalse();
    }

    [Fact]
    public void Parse_EqualsFormAndSpaceForm_AreEquivalent()
    {
        var (a, _) = EngineCommandLines.Parse(Flavour.MlxLm, ["--port=9001", "--chat-template-args={\"enable_thinking\":false}"]);
        var (b, _) = EngineCommandLines.Parse(Flavour.MlxLm, ["--port", "9001", "--chat-template-args", "{\"enable_thinking\":false}"]);

        a!.Port.ShouldBe(9001);
        b!.Port.ShouldBe(9001);
        a.ChatTemplateArgs["enable_thinking"]!.GetValue<bool>().ShouldBeFalse();
        b.ChatTemplateArgs.ToJsonString().ShouldBe(a.ChatTemplateArgs.ToJsonString());
    }

    [Fact]
    public void Parse_UniquePrefix_IsAcceptedLikeArgparse()
    {
        var (options, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, ["--mod", "some/model", "--max-t", "64"]);

        outcome.ExitCode.ShouldBe(0);
        options!.Model.ShouldBe("some/model");
        options.DefaultMaxTokens.ShouldBe(64);
    }

    [Fact]
    public void Parse_AmbiguousPrefix_ListsTheCandidates()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, ["--m", "x"]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldEndWith("mlx_lm.server: error: ambiguous option: --m could match --model, --min-p, --max-tokens\n");
    }

    [Fact]
    public void Parse_UnknownOptionAndItsValue_AreBothUnrecognized()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, ["--model", "m", "--foo", "bar"]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldStartWith("usage: mlx_lm.server [-h] [--model MODEL]");
        outcome.StandardError.ShouldEndWith("mlx_lm.server: error: unrecognized arguments: --foo bar\n");
        outcome.StandardOutput.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("--port", "abc", "argument --port: invalid int value: 'abc'")]
    [InlineData("--temp", "hot", "argument --temp: invalid float value: 'hot'")]
    [InlineData("--chat-template-args", "{nope", "argument --chat-template-args: invalid loads value: '{nope'")]
    [InlineData("--log-level", "LOUD", "argument --log-level: invalid choice: 'LOUD' (choose from 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')")]
    [InlineData("--prompt-cache-bytes", "12X", "argument --prompt-cache-bytes: invalid _parse_size value: '12X'")]
    public void Parse_BadValue_ReportsArgparseError(string flag, string value, string message)
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, [flag, value]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldEndWith($"mlx_lm.server: error: {message}\n");
    }

    [Fact]
    public void Parse_MissingValue_ExpectedOneArgument()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, ["--model", "--port", "1"]);

        outcome.StandardError.ShouldEndWith("mlx_lm.server: error: argument --model: expected one argument\n");
    }

    [Fact]
    public void Parse_NegativeNumber_IsAValueNotAnOption()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.MlxLm, ["--top-k", "-1"]);

        options!.Raw.Int("top_k").ShouldBe(-1);
    }

    [Fact]
    public void Parse_FlagWithExplicitValue_IsRejected()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, ["--trust-remote-code=yes"]);

        outcome.StandardError.ShouldEndWith("mlx_lm.server: error: argument --trust-remote-code: ignored explicit argument 'yes'\n");
    }

    [Fact]
    public void Parse_Help_PrintsUsageDescriptionAndOptionsToStdout()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.MlxLm, ["--model", "x", "-h", "--bogus"]);

        outcome.ExitCode.ShouldBe(0);
        outcome.StandardError.ShouldBeEmpty();
        outcome.StandardOutput.ShouldStartWith("usage: mlx_lm.server [-h]");
        outcome.StandardOutput.ShouldContain("\n\nMLX Http Server.\n\noptions:\n  -h, --help            show this help message and exit\n");
        outcome.StandardOutput.ShouldContain("  --max-tokens MAX_TOKENS\n                        Default maximum number of tokens to generate (default:\n                        512)\n");
    }

    [Fact]
    public void FormatUsage_WrapsAtTheWidthUnderTheFirstOption()
    {
        var usage = EngineCommandLines.MlxLm().FormatUsage();

        var lines = usage.TrimEnd('\n').Split('\n');
        lines.Length.ShouldBeGreaterThan(3);
        lines.ShouldAllBe(l => l.Length <= 78);
        lines.Skip(1).ShouldAllBe(l => l.StartsWith(new string(' ', "usage: mlx_lm.server ".Length) + "["));
    }

    [Fact]
    public void Parse_VlmThinkingAlias_SetsTheSameDestination()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.MlxVlm, ["--thinking-eos-token", "</end>", "--enable-thinking"]);

        options!.Raw.String("thinking_end_token").ShouldBe("</end>");
        options.EnableThinking.ShouldBeTrue();
    }

    [Fact]
    public void PythonRepr_QuotesLikePython()
    {
        ArgparseCommandLine.PythonRepr("abc").ShouldBe("'abc'");
        ArgparseCommandLine.PythonRepr("it's").ShouldBe("\"it's\"");
        ArgparseCommandLine.PythonRepr("a\nb").ShouldBe("'a\\nb'");
    }

    [Fact]
    public void Parse_ChatTemplateArgsDefault_IsAnEmptyObject()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.MlxLm, []);

        options!.ChatTemplateArgs.ShouldBeOfType<JsonObject>().Count.ShouldBe(0);
    }
}
