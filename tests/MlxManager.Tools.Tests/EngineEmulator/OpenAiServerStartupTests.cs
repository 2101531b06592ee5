using System.Net;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

/// <summary>mlx-openai-server's start-up: listening at once, <c>/health</c> 503 <c>unhealthy</c> until the model is
/// loaded (in a handler child process), then 200; status 1 when the load fails; loguru output and the log file.</summary>
public sealed class OpenAiServerStartupTests : IClassFixture<ModelCache>
{
    readonly ModelCache cache;

    public OpenAiServerStartupTests(ModelCache cache) => this.cache = cache;

    [Fact]
    public async Task Health_InListenFirstMode_Is503UntilLoadedThen200()
    {
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", FixtureCatalog.QwenThinking.RepoId, "--no-log-file"],
            cache.Environment(("EMULATOR_LOAD_RATE", "300K"), ("EMULATOR_START_MODE", "listen-first")));
        await engine.WaitListeningAsync();

        using var before = await engine.Http.GetAsync("/health");
        var beforeBody = await before.Content.ReadAsStringAsync();
        var healthy = await EngineProcess.EventuallyAsync(() => engine.Http.GetAsync("/health").Result.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        var after = JsonNode.Parse(await engine.Http.GetStringAsync("/health"))!;

        before.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        beforeBody.ShouldBe("{\"status\":\"unhealthy\",\"model_id\":null,\"model_status\":\"uninitialized\"}");
        healthy.ShouldBeTrue();
        after["status"]!.GetValue<string>().ShouldBe("ok");
        after["model_id"]!.GetValue<string>().ShouldBe(FixtureCatalog.QwenThinking.RepoId);
        engine.Stdout.ShouldContain("| INFO     | app.server:lifespan:432 | ✦ Spawning handler process for model");
        engine.Stdout.ShouldContain("Multi-handler initialization complete. 1 model(s) spawned.");
    }

    [Fact]
    public async Task Start_ByDefault_LoadsInTheLifespanBeforeListening()
    {
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", FixtureCatalog.QwenThinking.RepoId, "--no-log-file"],
            cache.Environment(("EMULATOR_LOAD_RATE", "300K")));
        await engine.WaitForOutputAsync("Spawning handler process for model");

        var answeredWhileLoading = await EngineProcess.AcceptsConnectionAsync(engine.Port);
        var loadedMeanwhile = engine.Stdout.Contains("is ready", StringComparison.Ordinal);
        await engine.WaitListeningAsync();
        using var health = await engine.Http.GetAsync("/health");

        loadedMeanwhile.ShouldBeFalse("the load at 300 KB/s outlasts one connection attempt");
        answeredWhileLoading.ShouldBeFalse("uvicorn does not accept connections before the lifespan has loaded the model");
        health.StatusCode.ShouldBe(HttpStatusCode.OK, "the first answer already has the model loaded");
    }

    [Fact]
    public async Task Start_FailedLoad_ExitsWith1()
    {
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", FixtureCatalog.Unsupported.RepoId, "--no-log-file"], cache.Environment());

        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(1);
        engine.Stdout.ShouldContain("ERROR    | app.server:lifespan:471 | ✦ Failed to initialize multi-handler setup:");
        engine.Stderr.ShouldContain("ValueError: Model type frobnicator not supported.");
        engine.Stderr.ShouldEndWith("ERROR:    Application startup failed. Exiting.");
    }

    [Fact]
    public async Task Models_UseTheServedModelName()
    {
        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", FixtureCatalog.Phi8Bit.RepoId, "--served-model-name", "phi", "--no-log-file"], cache.Environment());
        await engine.WaitListeningAsync();
        await EngineProcess.EventuallyAsync(() => engine.Http.GetAsync("/health").Result.IsSuccessStatusCode, TimeSpan.FromSeconds(60));

        var models = JsonNode.Parse(await engine.Http.GetStringAsync("/v1/models"))!;

        models["data"]![0]!["id"]!.GetValue<string>().ShouldBe("phi");
        models["data"]![0]!["owned_by"]!.GetValue<string>().ShouldBe("local");
    }

    [Fact]
    public async Task LogFile_IsWrittenUnderLogsUnlessDisabled()
    {
        var workingDirectory = Directory.CreateTempSubdirectory("openai-cwd-").FullName;
        try
        {
            using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", FixtureCatalog.Phi8Bit.RepoId], cache.Environment(), workingDirectory: workingDirectory);
            await engine.WaitListeningAsync();
            await EngineProcess.EventuallyAsync(() => engine.Http.GetAsync("/health").Result.IsSuccessStatusCode, TimeSpan.FromSeconds(60));

            var log = Path.Combine(workingDirectory, "logs", "app.log");
            File.Exists(log).ShouldBeTrue();
            File.ReadAllText(log).ShouldContain("| INFO | 📝 Log Level: INFO");
        }
        finally
        {
            Directory.Delete(workingDirectory, recursive: true);
        }
    }
}
