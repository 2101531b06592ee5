using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Cli;

namespace MlxManager.Tools.Tests.EngineEmulator.Cli;

/// <summary>click behaviour for mlx-openai-server's <c>launch</c> command: exact option names only, the next
/// argument is always the value, usage errors exit 2 with <c>Usage:</c> / <c>Try … --help</c> / <c>Error:</c>.</summary>
public sealed class ClickCommandLineTests
{
    [Fact]
    public void Parse_Defaults_MatchTheDocumentedOnes()
    {
        var (options, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", "--model-path", "m"]);

        outcome.ExitCode.ShouldBe(0);
        options!.Host.ShouldBe("0.0.0.0");
        options.Port.ShouldBe(8000);
        options.ModelType.ShouldBe("lm");
        options.Raw.Int("queue_timeout").ShouldBe(300);
        options.Raw.Int("queue_size").ShouldBe(100);
        options.ReasoningParser.ShouldBeNull();
    }

    [Fact]
    public void Parse_WithoutSubcommand_InsertsLaunch()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["--model-path", "m", "--port", "9"]);

        options!.Port.ShouldBe(9);
    }

    // Expected suggestions computed with Python's difflib.get_close_matches over the launch options.
    [Theory]
    [InlineData("--trust-remote", "No such option: --trust-remote Did you mean --trust-remote-code?")]
    [InlineData("--model-pat", "No such option: --model-pat (Possible options: --draft-model-path, --model-path, --model-type)")]
    [InlineData("--prot", "No such option: --prot (Possible options: --host, --port)")]
    public void Parse_UnknownOption_SuggestsCloseOnes(string option, string message)
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", option, "m"]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldBe($"Usage: mlx-openai-server launch [OPTIONS]\nTry 'mlx-openai-server launch --help' for help.\n\nError: {message}\n");
    }

    [Fact]
    public void Parse_PrefixAbbreviation_IsNotAccepted()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", "--model-path", "m", "--reasoning", "qwen3"]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldContain("Error: No such option: --reasoning");
    }

    [Theory]
    [InlineData("--port", "abc", "Error: Invalid value for '--port': 'abc' is not a valid integer.")]
    [InlineData("--temperature", "warm", "Error: Invalid value for '--temperature': 'warm' is not a valid float.")]
    [InlineData("--model-type", "llm", "Error: Invalid value for '--model-type': 'llm' is not one of 'lm', 'multimodal', 'image-generation', 'image-edit', 'embeddings', 'whisper'.")]
    public void Parse_BadValue_ReportsClickError(string flag, string value, string message)
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", "--model-path", "m", flag, value]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldEndWith(message + "\n");
    }

    [Fact]
    public void Parse_LogLevel_IsCaseInsensitiveAndUpperCased()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", "--model-path", "m", "--log-level", "debug"]);

        options!.LogLevel.ShouldBe("DEBUG");
    }

    [Fact]
    public void Parse_ValueThatLooksLikeAnOption_IsTakenAsTheValue()
    {
        var (options, _) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", "--model-path", "--port"]);

        options!.Model.ShouldBe("--port");
    }

    [Fact]
    public void Parse_MissingModelPath_IsAUsageError()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch"]);

        outcome.ExitCode.ShouldBe(2);
        outcome.StandardError.ShouldEndWith("Error: Either --config (multi-handler YAML) or --model-path (single model) is required.\n");
    }

    [Fact]
    public void Parse_UnknownCommand_IsAGroupError()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["serve"]);

        outcome.StandardError.ShouldBe("Usage: mlx-openai-server [OPTIONS] COMMAND [ARGS]...\nTry 'mlx-openai-server --help' for help.\n\nError: No such command 'serve'.\n");
    }

    [Fact]
    public void Parse_FlagWithValue_IsRejected()
    {
        var (_, outcome) = EngineCommandLines.Parse(Flavour.OpenAiServer, ["launch", "--model-path", "m", "--no-log-file=1"]);

        outcome.StandardError.ShouldBe("Error: Option '--no-log-file' does not take a value.\n");
    }

    [Fact]
    public void SequenceRatio_MatchesDifflib()
    {
        // difflib.SequenceMatcher(None, "--model-path", "--model-pat").ratio() == 0.9565217391304348
        ClickCommandLine.SequenceRatio("--model-path", "--model-pat").ShouldBe(0.9565217391304348, 1e-12);
        // difflib.SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75
        ClickCommandLine.SequenceRatio("abcd", "bcde").ShouldBe(0.75, 1e-12);
    }
}
