using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

/// <summary>Faults on demand: a magic prompt or EMULATOR_FAULT crashes the engine mid-stream, hangs it, or
/// ends it after N seconds; and the other tool-call chunking is available through EMULATOR_TOOL_CALL_CHUNKS.</summary>
public sealed class FaultTests : IClassFixture<ModelCache>
{
    readonly ModelCache cache;

    public FaultTests(ModelCache cache) => this.cache = cache;

    async Task<EngineProcess> StartAsync(Flavour flavour, string model, params (string, string)[] environment)
    {
        var engine = EngineProcess.Start(flavour, flavour == Flavour.OpenAiServer ? ["--model-path", model, "--no-log-file"] : ["--model", model], cache.Environment(environment));
        await engine.WaitListeningAsync();
        return engine;
    }

    static JsonObject Body(string text, string? model = null)
    {
        var body = Chat.Body(Chat.User(text));
        if (model is not null) body["model"] = model;
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };
        return body;
    }

    [Fact]
    public async Task CrashPrompt_EndsTheStreamWithoutDoneAndTheProcessDies()
    {
        using var engine = await StartAsync(Flavour.MlxLm, FixtureCatalog.Phi8Bit.RepoId);

        var stream = await Chat.StreamAsync(engine.Http, Body("please [[crash]] now"));
        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(30));

        stream.Chunks.Count.ShouldBeGreaterThan(0);
        stream.Done.ShouldBeFalse();
        exit.ShouldBe(134);
        engine.Stderr.ShouldContain("[METAL] Command buffer execution failed: Insufficient Memory");
    }

    [Fact]
    public async Task CrashFault_FromTheEnvironment_CrashesAnyStream()
    {
        using var engine = await StartAsync(Flavour.MlxVlm, FixtureCatalog.QwenVision.RepoId, ("EMULATOR_FAULT", "crash-mid-stream"));
        var body = Body("an ordinary question", FixtureCatalog.QwenVision.RepoId);

        var stream = await Chat.StreamAsync(engine.Http, body);

        stream.Done.ShouldBeFalse();
        (await engine.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldNotBe(0);
    }

    [Fact]
    public async Task HangPrompt_StallsTheStreamWhileTheProcessStaysUp()
    {
        using var engine = await StartAsync(Flavour.MlxLm, FixtureCatalog.Phi8Bit.RepoId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(4));

        await Should.ThrowAsync<OperationCanceledException>(() => Chat.StreamAsync(engine.Http, Body("[[hang]]"), timeout.Token));

        engine.HasExited.ShouldBeFalse();
        (await engine.Http.GetAsync("/health")).IsSuccessStatusCode.ShouldBeTrue();
        var after = await Chat.CompleteAsync(engine.Http, Body("still there?"));
        after["choices"]![0]!["message"]!["content"]!.GetValue<string>().ShouldNotBeEmpty();
    }

    [Fact]
    public async Task HangFault_FromTheEnvironment_EvenAOneTokenProbeNeverReturns()
    {
        using var engine = await StartAsync(Flavour.OpenAiServer, FixtureCatalog.Phi8Bit.RepoId, ("EMULATOR_FAULT", "hang"));
        (await EngineProcess.EventuallyAsync(() => engine.Http.GetAsync("/health").Result.IsSuccessStatusCode, TimeSpan.FromSeconds(60))).ShouldBeTrue();
        var probe = Body("ready?");
        probe["max_tokens"] = 1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        await Should.ThrowAsync<OperationCanceledException>(() => engine.Http.PostAsync("/v1/chat/completions", Chat.Json(probe), timeout.Token));

        engine.HasExited.ShouldBeFalse();
    }

    [Fact]
    public async Task ExitAfter_EndsTheProcessWithStatus1()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", FixtureCatalog.Phi8Bit.RepoId], cache.Environment(("EMULATOR_FAULT", "exit-after:2")));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exit.ShouldBe(1);
        clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(1.9));
    }

    [Fact]
    public async Task BadKnob_IsReportedAndExits2()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, [], cache.Environment(("EMULATOR_FAULT", "explode")));

        (await engine.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBe(2);
        engine.Stderr.ShouldContain("EMULATOR_FAULT: unknown fault 'explode'");
    }

    [Fact]
    public async Task WholeToolCallChunks_ForMlxVlm_ComeInTheFinalChunkAsTheRealServerSendsThem()
    {
        using var engine = await StartAsync(Flavour.MlxVlm, FixtureCatalog.QwenVision.RepoId, ("EMULATOR_TOOL_CALL_CHUNKS", "whole"));

        var stream = await Chat.StreamAsync(engine.Http, Chat.WeatherAndCalculatorTools(Body("weather in Bergen and 2*21?", FixtureCatalog.QwenVision.RepoId)));

        var withCalls = stream.Chunks.Where(c => c["choices"] is JsonArray { Count: > 0 } a && a[0]!["delta"]!["tool_calls"] is JsonArray).ToList();
        var final = withCalls.ShouldHaveSingleItem();
        final["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("tool_calls");
        var calls = final["choices"]![0]!["delta"]!["tool_calls"]!.AsArray();
        calls.Select(c => c!["function"]!["name"]!.GetValue<string>()).ShouldBe(["get_weather", "calculator"]);
        calls.Select(c => c!["index"]!.GetValue<int>()).ShouldBe([0, 1]);
    }
}
