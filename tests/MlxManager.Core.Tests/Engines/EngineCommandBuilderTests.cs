using MlxManager.Core.Engines;

namespace MlxManager.Core.Tests.Engines;

public sealed class EngineCommandBuilderTests : IDisposable
{
    private readonly DirectoryInfo _bin = Directory.CreateTempSubdirectory("engines-bin-");

    public void Dispose() => _bin.Delete(recursive: true);

    [Fact]
    public void Build_ResolvesTheExecutableAndBuildsArgumentsAndEnvironment()
    {
        var executable = Path.Combine(_bin.FullName, "mlx_lm.server");
        File.WriteAllText(executable, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(executable, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var profile = ProfileSamples.Minimal(MlxLmServer.EngineKey);
        profile.EnvironmentVariables = "HF_HUB_OFFLINE=1";
        var result = Builder(executable).Build(profile, new ResolvedModel("mlx-community/Qwen3-4B-4bit"));

        result.Problem.ShouldBeNull();
        var command = result.Command.ShouldNotBeNull();
        command.Executable.ShouldBe(executable);
        command.Arguments.ShouldBe(["--model", "mlx-community/Qwen3-4B-4bit", "--host", "127.0.0.1", "--port", "8081", "--max-tokens", "4096"]);
        command.Environment["HF_HUB_OFFLINE"].ShouldBe("1");
        command.Preview.ShouldBe(
            $"HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 {executable} --model mlx-community/Qwen3-4B-4bit --host 127.0.0.1 --port 8081 --max-tokens 4096");
    }

    [Fact]
    public void Build_WhenTheExecutableIsMissing_ReturnsTheLocatorsMessage()
    {
        var missing = Path.Combine(_bin.FullName, "absent");

        var result = Builder(missing).Build(ProfileSamples.Minimal(MlxLmServer.EngineKey), new ResolvedModel("a/b"));

        result.Command.ShouldBeNull();
        result.Problem.ShouldNotBeNull().ShouldContain("pip install mlx-lm");
    }

    [Fact]
    public void Preview_WhenTheExecutableIsMissing_StillShowsTheCommandWithTheBareName()
    {
        var profile = ProfileSamples.Minimal(MlxLmServer.EngineKey);
        profile.Thinking = Core.Profiles.ThinkingMode.Off;

        var result = Builder(Path.Combine(_bin.FullName, "absent")).Preview(profile, new ResolvedModel("a/b"));

        result.Command.ShouldNotBeNull().Preview.ShouldBe(
            "PYTHONUNBUFFERED=1 mlx_lm.server --model a/b --host 127.0.0.1 --port 8081 --max-tokens 4096 --chat-template-args '{\"enable_thinking\":false}'");
        result.Problem.ShouldNotBeNull().ShouldContain("no file exists there");
    }

    [Fact]
    public void Build_WhenExtraArgumentsDoNotParse_SaysWhy()
    {
        var profile = ProfileSamples.Minimal(MlxLmServer.EngineKey);
        profile.ExtraArguments = "--a \"b";

        var result = Builder(null).Build(profile, new ResolvedModel("a/b"));

        result.Command.ShouldBeNull();
        result.Problem.ShouldNotBeNull().ShouldStartWith("Extra arguments: Unbalanced double quote");
    }

    [Fact]
    public void Build_WhenTheEngineIsUnknown_SaysWhich()
    {
        var profile = ProfileSamples.Minimal("llama-server");

        Builder(null).Build(profile, new ResolvedModel("a/b")).Problem.ShouldBe("The profile uses an unknown engine 'llama-server'.");
    }

    [Fact]
    public void CommandPreview_QuotesEveryPartThatNeedsIt()
    {
        CommandPreview.Render("/opt/my env/bin/mlx_lm.server", ["--chat-template", "{{ x }}", "it's"], [new("B", "two words"), new("A", "1")])
            .ShouldBe("A=1 B='two words' '/opt/my env/bin/mlx_lm.server' --chat-template '{{ x }}' 'it'\\''s'");
    }

    private static EngineCommandBuilder Builder(string? configuredPath)
    {
        var options = new EngineOptions();
        if (configuredPath is not null)
        {
            options.Engines[MlxLmServer.EngineKey] = new EngineSettings { Path = configuredPath };
        }

        return new EngineCommandBuilder(EngineRegistry.Discover(), new EngineExecutableLocator(new FixedOptionsMonitor<EngineOptions>(options)));
    }
}
