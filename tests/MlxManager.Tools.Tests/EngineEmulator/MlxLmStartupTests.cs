using System.Net;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

/// <summary>mlx_lm.server's start-up as engines.md describes it: listening at once, /health and /v1/models
/// before the model has loaded, requests queued behind the load, a failed load that leaves the server up with
/// requests hanging, and the older load-then-listen mode.</summary>
public sealed class MlxLmStartupTests : IClassFixture<ModelCache>
{
    readonly ModelCache cache;

    public MlxLmStartupTests(ModelCache cache) => this.cache = cache;

    [Fact]
    public async Task Start_HealthAndModelsAnswerBeforeTheModelHasLoaded_AndRequestsWaitForTheLoad()
    {
        // 3 MB at 300 KB/s: the load takes about ten seconds, long enough to be seen even on a busy machine.
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", FixtureCatalog.Phi8Bit.RepoId], cache.Environment(("EMULATOR_LOAD_RATE", "300K")));
        await engine.WaitListeningAsync();

        var completion = Chat.CompleteAsync(engine.Http, Chat.Body(Chat.User("hello")));
        using var health = await engine.Http.GetAsync("/health");
        var models = JsonNode.Parse(await engine.Http.GetStringAsync("/v1/models"))!;

        health.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync()).ShouldBe("{\"status\": \"ok\"}");
        models["object"]!.GetValue<string>().ShouldBe("list");
        models["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ShouldContain(FixtureCatalog.Phi8Bit.RepoId);
        completion.IsCompleted.ShouldBeFalse();

        var answer = await completion;
        answer["choices"]![0]!["message"]!["content"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Models_ListsOnlyMlxLookingReposAndTheLocalModelFolder()
    {
        var folder = Directory.CreateTempSubdirectory("local-model-").FullName;
        try
        {
            RepoWriter.Write(folder, FixtureCatalog.LlamaTools);
            // A cached repo without model.safetensors.index.json and tokenizer_config.json is not MLX-looking.
            var notMlx = Path.Combine(cache.Root, "models--someone--not-mlx");
            Directory.CreateDirectory(Path.Combine(notMlx, "snapshots", "abc"));
            Directory.CreateDirectory(Path.Combine(notMlx, "refs"));
            File.WriteAllText(Path.Combine(notMlx, "refs", "main"), "abc");
            File.WriteAllText(Path.Combine(notMlx, "snapshots", "abc", "config.json"), "{}");
            using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", folder], cache.Environment());
            await engine.WaitListeningAsync();

            var ids = JsonNode.Parse(await engine.Http.GetStringAsync("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
            var filtered = JsonNode.Parse(await engine.Http.GetStringAsync($"/v1/models/{FixtureCatalog.QwenThinking.RepoId}"))!["data"]!.AsArray();

            ids.ShouldContain(FixtureCatalog.QwenThinking.RepoId);
            ids.ShouldNotContain("someone/not-mlx");
            ids.Last().ShouldBe(folder);
            // The real handler applies the filter to cached repos only; the local --model folder is always appended.
            filtered.Select(m => m!["id"]!.GetValue<string>()).ShouldBe([FixtureCatalog.QwenThinking.RepoId, folder]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(Path.Combine(cache.Root, "models--someone--not-mlx"), recursive: true);
        }
    }

    [Fact]
    public async Task Start_UnsupportedModel_PrintsTheThreadTracebackKeepsListeningAndRequestsHang()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", FixtureCatalog.Unsupported.RepoId], cache.Environment());
        await engine.WaitListeningAsync();
        await engine.WaitForOutputAsync("ValueError: Model type frobnicator not supported.");

        engine.Stderr.ShouldContain("Exception in thread Thread-1 (_generate):\nTraceback (most recent call last):\n");
        engine.Stderr.ShouldContain("in load_default\n");
        (await engine.Http.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await Should.ThrowAsync<OperationCanceledException>(() =>
            engine.Http.PostAsync("/v1/chat/completions", Chat.Json(Chat.Body(Chat.User("hi"))), probe.Token));
        engine.HasExited.ShouldBeFalse();
    }

    [Fact]
    public async Task Start_LoadFirstMode_ExitsWith1AndAMainThreadTracebackOnFailure()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", FixtureCatalog.Unsupported.RepoId], cache.Environment(("EMULATOR_START_MODE", "load-first")));

        var exit = await engine.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(1);
        engine.Stderr.ShouldStartWith("Fetching ");
        engine.Stderr.ShouldContain("Traceback (most recent call last):\n  File \"/Users/mlx/.venv/bin/mlx_lm.server\", line 8, in <module>");
        engine.Stderr.ShouldEndWith("ValueError: Model type frobnicator not supported.");
        engine.Stderr.ShouldNotContain("Starting httpd");
    }

    [Fact]
    public async Task Start_LoadFirstMode_ListensOnlyAfterTheLoad()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", FixtureCatalog.Phi8Bit.RepoId],
            cache.Environment(("EMULATOR_START_MODE", "load-first"), ("EMULATOR_LOAD_RATE", "1M")));

        await engine.WaitListeningAsync();

        // Listening implies loaded: the first completion is answered without waiting for a load.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var body = Chat.Body(Chat.User("hello"));
        body["max_tokens"] = 1;
        await Chat.CompleteAsync(engine.Http, body);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2.5));
        engine.Stderr.ShouldContain("Starting httpd at 127.0.0.1 on port");
    }

    [Fact]
    public async Task Start_MissingRepo_FailsWithTheHubError()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", "nobody/not-downloaded"], cache.Environment());
        await engine.WaitForOutputAsync("LocalEntryNotFoundError");

        engine.Stderr.ShouldContain("huggingface_hub.errors.LocalEntryNotFoundError: An error happened while trying to locate the files on the Hub");
    }

    [Fact]
    public async Task Start_PortTaken_ExitsWithAddressInUse()
    {
        using var first = EngineProcess.Start(Flavour.MlxLm, [], cache.Environment());
        await first.WaitListeningAsync();

        using var second = EngineProcess.Start(Flavour.MlxLm, ["--port", first.Port.ToString()], cache.Environment(), addPort: false);
        var exit = await second.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exit.ShouldBe(1);
        second.Stderr.ShouldEndWith("OSError: [Errno 48] Address already in use");
    }

    [Fact]
    public async Task Start_PrintsTheWarningAndBanner()
    {
        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", FixtureCatalog.Phi8Bit.RepoId], cache.Environment());
        await engine.WaitListeningAsync();
        await engine.WaitForOutputAsync("Starting httpd");
        await engine.Http.GetAsync("/health");
        await engine.WaitForOutputAsync("\"GET /health HTTP/1.1\" 200 -");

        engine.Stderr.ShouldContain("UserWarning: mlx_lm.server is not recommended for production as it only implements basic security checks.");
        engine.Stderr.ShouldMatch(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - INFO - Starting httpd at 127\.0\.0\.1 on port \d+\.\.\.");
        engine.Stderr.ShouldMatch(@"127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4} \d\d:\d\d:\d\d\] ""GET /health HTTP/1\.1"" 200 -");
    }
}
