using MlxManager.EngineEmulator;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

/// <summary>The installed launchers behave like the real executables on the command line.</summary>
public sealed class EngineCliTests
{
    static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(Flavour flavour, params string[] args)
    {
        using var engine = EngineProcess.Start(flavour, args, addPort: false);
        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, engine.Stdout, engine.Stderr);
    }

    [Theory]
    [InlineData(Flavour.MlxLm, "usage: mlx_lm.server [-h]", "MLX Http Server.")]
    [InlineData(Flavour.MlxVlm, "usage: mlx_vlm.server [-h]", "MLX VLM Http Server.")]
    public async Task Help_PrintsArgparseHelpAndExits0(Flavour flavour, string usage, string description)
    {
        var (exit, stdout, stderr) = await RunAsync(flavour, "--help");

        exit.ShouldBe(0);
        stdout.ShouldStartWith(usage);
        stdout.ShouldContain(description);
        stdout.ShouldContain("  --max-tokens MAX_TOKENS");
        stderr.ShouldBeEmpty();
    }

    [Fact]
    public async Task Version_OpenAiServer_PrintsClicksVersionMessageAndExits0()
    {
        // The console script is the click group (app.cli:cli): --version belongs to the group, not to launch.
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--version"], addPort: false, launchSubcommand: false);
        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(0);
        engine.Stdout.Split('\n').ShouldBe(["", "✨ mlx-openai-server - OpenAI Compatible API Server for MLX models ✨", "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━",
            $"🚀 Version: {MlxManager.EngineEmulator.Server.EngineRuntime.OpenAiServerVersion}", ""]);
        engine.Stderr.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(Flavour.MlxLm)]
    [InlineData(Flavour.MlxVlm)]
    public async Task Version_ArgparseEngines_HaveNoVersionFlag(Flavour flavour)
    {
        var (exit, _, stderr) = await RunAsync(flavour, "--version");

        exit.ShouldBe(2);
        stderr.TrimEnd().ShouldEndWith($"{flavour.ExecutableName()}: error: unrecognized arguments: --version");
    }

    [Fact]
    public async Task Help_OpenAiServer_PrintsLaunchHelp()
    {
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--help"], addPort: false);
        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(0);
        engine.Stdout.ShouldStartWith("Usage: mlx-openai-server launch [OPTIONS]");
        engine.Stdout.ShouldContain("  --reasoning-parser [");
        engine.Stdout.ShouldContain("  --help                          Show this message and exit.");
    }

    [Theory]
    [InlineData(Flavour.MlxLm, "mlx_lm.server: error: unrecognized arguments: --foo bar")]
    [InlineData(Flavour.MlxVlm, "mlx_vlm.server: error: unrecognized arguments: --foo bar")]
    public async Task UnknownFlag_ExitsWith2AndArgparseUsage(Flavour flavour, string error)
    {
        var (exit, stdout, stderr) = await RunAsync(flavour, "--model", "x", "--foo", "bar");

        exit.ShouldBe(2);
        stdout.ShouldBeEmpty();
        stderr.ShouldStartWith($"usage: {flavour.ExecutableName()} [-h]");
        stderr.TrimEnd().ShouldEndWith(error);
    }

    [Fact]
    public async Task UnknownFlag_OpenAiServer_ExitsWith2AndClickUsage()
    {
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", "x", "--foo"], addPort: false);
        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(2);
        engine.Stderr.ShouldBe("Usage: mlx-openai-server launch [OPTIONS]\nTry 'mlx-openai-server launch --help' for help.\n\nError: No such option: --foo");
    }

    [Fact]
    public async Task BadValue_ExitsWith2()
    {
        var (exit, _, stderr) = await RunAsync(Flavour.MlxLm, "--max-tokens", "lots");

        exit.ShouldBe(2);
        stderr.TrimEnd().ShouldEndWith("mlx_lm.server: error: argument --max-tokens: invalid int value: 'lots'");
    }

    [Fact]
    public async Task ImportTime_DelaysEvenTheHelp_AsPythonImportsDo()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--help"], new Dictionary<string, string> { ["EMULATOR_IMPORT_SECONDS"] = "1.5" }, addPort: false);
        await Task.Delay(700);
        engine.Stdout.ShouldBeEmpty("nothing is printed while importing");

        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(0);
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5));
        engine.Stdout.ShouldStartWith("usage: mlx_lm.server [-h]");
    }

    [Theory]
    [InlineData("EMULATOR_IMPORT_SECONDS", "soon", "EMULATOR_IMPORT_SECONDS: 'soon' is not a number of seconds between 0 and 3600")]
    [InlineData("EMULATOR_LOAD_RATE", "-3M", "EMULATOR_LOAD_RATE: '-3M' is not a positive number")]
    [InlineData("EMULATOR_START_MODE", "later", "EMULATOR_START_MODE: 'later' is not listen-first or load-first")]
    public async Task MalformedKnob_SaysWhichAndExits2(string variable, string value, string message)
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", "x"], new Dictionary<string, string> { [variable] = value }, addPort: false);

        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(2);
        engine.Stderr.TrimEnd().ShouldBe($"[emulator] {message}");
    }
}
