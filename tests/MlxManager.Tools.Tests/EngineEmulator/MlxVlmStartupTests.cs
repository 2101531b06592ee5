using System.Net;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

/// <summary>mlx_vlm.server's start-up: uvicorn lines, <c>/health</c> with <c>loaded_model</c> (null until a model is in
/// memory) and the details engines.md lists, and uvicorn's exit status 3 when the lifespan load fails.</summary>
public sealed class MlxVlmStartupTests : IClassFixture<ModelCache>
{
    readonly ModelCache cache;

    public MlxVlmStartupTests(ModelCache cache) => this.cache = cache;

    static async Task<JsonObject> HealthAsync(EngineProcess engine) =>
        JsonNode.Parse(await engine.Http.GetStringAsync("/health"))!.AsObject();

    [Fact]
    public async Task Health_InListenFirstMode_LoadedModelIsNullUntilTheModelIsInMemory()
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", FixtureCatalog.QwenVision.RepoId],
            cache.Environment(("EMULATOR_LOAD_RATE", "300K"), ("EMULATOR_START_MODE", "listen-first")));
        await engine.WaitListeningAsync();

        var before = await HealthAsync(engine);
        var loaded = await EngineProcess.EventuallyAsync(() => HealthAsync(engine).Result["loaded_model"] is not null, TimeSpan.FromSeconds(60));
        var after = await HealthAsync(engine);

        before["status"]!.GetValue<string>().ShouldBe("healthy");
        before["loaded_model"].ShouldBeNull();
        before["continuous_batching_enabled"]!.GetValue<bool>().ShouldBeFalse();
        loaded.ShouldBeTrue();
        after["loaded_model"]!.GetValue<string>().ShouldBe(FixtureCatalog.QwenVision.RepoId);
        after["loaded_context_size"]!.GetValue<int>().ShouldBe(128000);
        after["loaded_tool_parser"]!.GetValue<string>().ShouldBe("json_tools");
        engine.Stderr.ShouldContain($"INFO - Pre-loading language model: {FixtureCatalog.QwenVision.RepoId}");
        engine.Stderr.ShouldContain("INFO - Language model ready, continuous batching enabled.");
        engine.Stderr.ShouldContain("INFO:     Uvicorn running on http://127.0.0.1:");
    }

    [Fact]
    public async Task Start_FailedLoad_ExitsWith3AfterUvicornsStartupFailure()
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", FixtureCatalog.Unsupported.RepoId], cache.Environment());

        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(3);
        engine.Stderr.ShouldContain("ERROR:    Traceback (most recent call last):");
        engine.Stderr.ShouldContain("ValueError: Model type frobnicator not supported. Error: No module named");
        engine.Stderr.ShouldEndWith("ERROR:    Application startup failed. Exiting.");
    }

    [Fact]
    public async Task Start_ByDefault_RefusesConnectionsWhileLoading_ThenHealthAlreadyReportsTheModel()
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", FixtureCatalog.GemmaVision.RepoId], cache.Environment(("EMULATOR_LOAD_RATE", "300K")));
        await engine.WaitForOutputAsync("Pre-loading language model");

        var answeredWhileLoading = await EngineProcess.AcceptsConnectionAsync(engine.Port);
        var loadedMeanwhile = engine.Stderr.Contains("Language model ready", StringComparison.Ordinal);
        await engine.WaitListeningAsync();

        loadedMeanwhile.ShouldBeFalse("the load at 300 KB/s outlasts one connection attempt");
        answeredWhileLoading.ShouldBeFalse("uvicorn does not accept connections before the lifespan has loaded the model");
        (await HealthAsync(engine))["loaded_model"]!.GetValue<string>().ShouldBe(FixtureCatalog.GemmaVision.RepoId);
        engine.Stderr.IndexOf("Language model ready", StringComparison.Ordinal).ShouldBeLessThan(engine.Stderr.IndexOf("Uvicorn running", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ApiKey_IsRequiredForHealthAndChat()
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", FixtureCatalog.GemmaVision.RepoId, "--api-key", "sesame"], cache.Environment());
        await engine.WaitListeningAsync();

        using var anonymous = await engine.Http.GetAsync("/health");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        request.Headers.Authorization = new("Bearer", "sesame");
        using var authorised = await engine.Http.SendAsync(request);

        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await anonymous.Content.ReadAsStringAsync()).ShouldBe("{\"detail\":\"Invalid API key\"}");
        authorised.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Models_ListsCachedReposAndTheLoadedOne()
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", FixtureCatalog.GemmaVision.RepoId], cache.Environment());
        await engine.WaitListeningAsync();

        var ids = JsonNode.Parse(await engine.Http.GetStringAsync("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();

        ids.ShouldContain(FixtureCatalog.GemmaVision.RepoId);
        ids.ShouldContain(FixtureCatalog.LlamaTools.RepoId);
    }

    [Fact]
    public async Task Unload_ClearsTheLoadedModel()
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", FixtureCatalog.GemmaVision.RepoId], cache.Environment());
        await engine.WaitListeningAsync();

        using var unload = await engine.Http.PostAsync("/unload", null);

        unload.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await HealthAsync(engine))["loaded_model"].ShouldBeNull();
    }
}
