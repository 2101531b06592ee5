using System.Globalization;
using System.Text.RegularExpressions;
using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Installation;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Tools.Tests.EngineEmulator;

/// <summary>Serialised: these tests measure time and memory, which other tests running beside them would skew.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResourceMeasurements
{
    public const string Name = "resource measurements";
}

/// <summary>Loading maps and touches every weight page at the configured rate: time grows with size, resident
/// memory grows by the weights, and that memory sits in whichever process holds the model.</summary>
[Collection(ResourceMeasurements.Name)]
public sealed partial class ModelLoadingTests(ITestOutputHelper output) : IDisposable
{
    const long MB = 1024 * 1024;
    readonly string cacheRoot = Directory.CreateTempSubdirectory("engine-load-cache-").FullName;

    public void Dispose() => Directory.Delete(cacheRoot, recursive: true);

    WrittenRepo Write(string repoId, long bytes, int shards = 1) =>
        HfCacheWriter.Write(cacheRoot, FixtureCatalog.Sized(FixtureCatalog.QwenThinking with { RepoId = repoId }, bytes, shards));

    Dictionary<string, string> Environment(string loadRate) => new()
    {
        ["HF_HUB_CACHE"] = cacheRoot, ["EMULATOR_LOAD_RATE"] = loadRate, ["EMULATOR_TOKEN_RATE"] = "400", ["EMULATOR_PREFILL_RATE"] = "20000",
    };

    /// <summary>The load's duration from mlx_vlm.server's own log lines (millisecond timestamps).</summary>
    static async Task<TimeSpan> VlmLoadDurationAsync(string repoId, Dictionary<string, string> environment)
    {
        using var engine = EngineProcess.Start(Flavour.MlxVlm, ["--model", repoId], environment);
        await engine.WaitForOutputAsync("Language model ready", TimeSpan.FromSeconds(120));
        var start = LogTime(engine.Stderr, "Pre-loading language model");
        var end = LogTime(engine.Stderr, "Language model ready");
        return end - start;
    }

    static DateTime LogTime(string log, string marker)
    {
        var line = log.Split('\n').First(l => l.Contains(marker, StringComparison.Ordinal));
        return DateTime.ParseExact(PythonTimestamp().Match(line).Value, "yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}")]
    private static partial Regex PythonTimestamp();

    [Fact]
    public async Task Load_TakesTimeInProportionToTheWeights()
    {
        var small = Write("test/weights-6mb", 6 * MB);
        var large = Write("test/weights-18mb", 18 * MB, shards: 2);
        var environment = Environment("6M");

        var smallTime = await VlmLoadDurationAsync(small.Spec.RepoId, environment);
        var largeTime = await VlmLoadDurationAsync(large.Spec.RepoId, environment);

        output.WriteLine($"load {small.WeightBytes} B: {smallTime.TotalSeconds:F2} s; {large.WeightBytes} B: {largeTime.TotalSeconds:F2} s");
        // 6 MiB and 18 MiB at 6 MB/s: about 1.05 s and 3.1 s. Never faster than the rate (each load is bounded below by
        // its own size, which is the proportionality); a busy machine may be slower, so no ratio is asserted.
        smallTime.TotalSeconds.ShouldBeGreaterThanOrEqualTo(small.WeightBytes / 6e6 * 0.95);
        largeTime.TotalSeconds.ShouldBeGreaterThanOrEqualTo(large.WeightBytes / 6e6 * 0.95);
        largeTime.TotalSeconds.ShouldBeLessThan(large.WeightBytes / 6e6 * 4 + 5, "a load must not take wildly longer than its rate allows");
    }

    [Fact]
    public async Task Load_LargeFixture_ResidentMemoryGrowsByTheWeightsSize()
    {
        var large = HfCacheWriter.Write(cacheRoot, FixtureCatalog.Large);
        var tiny = Write("test/weights-1mb", 1 * MB);
        var environment = Environment("2G");

        using var baseline = EngineProcess.Start(Flavour.MlxLm, ["--model", tiny.Spec.RepoId], environment);
        using var loaded = EngineProcess.Start(Flavour.MlxLm, ["--model", large.Spec.RepoId], environment);
        await baseline.WaitListeningAsync();
        await loaded.WaitListeningAsync();
        // A completion returns only once the model is loaded: the honest readiness probe.
        var probe = Chat.Body(Chat.User("hello"));
        probe["max_tokens"] = 1;
        await Chat.CompleteAsync(baseline.Http, (System.Text.Json.Nodes.JsonObject)probe.DeepClone());
        await Chat.CompleteAsync(loaded.Http, probe);

        var growth = EngineProcess.ResidentBytes(loaded.Pid) - EngineProcess.ResidentBytes(baseline.Pid);
        var weights = large.WeightBytes - tiny.WeightBytes;

        output.WriteLine($"weights {weights} B, resident growth {growth} B ({100.0 * growth / weights:F1} %)");
        large.WeightBytes.ShouldBeGreaterThan(200 * MB);
        ((double)growth).ShouldBeInRange(weights * 0.8, weights * 1.2);
    }

    [Fact]
    public async Task WrapperLauncher_ModelMemoryIsInTheChildNotTheLauncher()
    {
        var repo = Write("test/weights-96mb", 96 * MB, shards: 2);

        using var engine = EngineProcess.Start(Flavour.MlxLm, ["--model", repo.Spec.RepoId], Environment("2G"), launcher: LauncherKind.Wrapper);
        await engine.WaitListeningAsync();
        var probe = Chat.Body(Chat.User("hello"));
        probe["max_tokens"] = 1;
        await Chat.CompleteAsync(engine.Http, probe);

        var launcher = EngineProcess.ResidentBytes(engine.Pid);
        var child = EngineProcess.ResidentBytes(EngineProcess.Children(engine.Pid).Single());

        output.WriteLine($"wrapper launcher {launcher} B, emulator child {child} B, weights {repo.WeightBytes} B");
        launcher.ShouldBeLessThan(16 * MB);
        child.ShouldBeGreaterThan(repo.WeightBytes);
    }

    [Fact]
    public async Task OpenAiServer_ModelMemoryIsInTheHandlerProcess()
    {
        var repo = Write("test/weights-96mb-openai", 96 * MB, shards: 2);

        using var engine = EngineProcess.Start(Flavour.OpenAiServer, ["--model-path", repo.Spec.RepoId, "--no-log-file"], Environment("2G"));
        await engine.WaitListeningAsync();
        (await EngineProcess.EventuallyAsync(() => engine.Http.GetAsync("/health").Result.IsSuccessStatusCode, TimeSpan.FromSeconds(120))).ShouldBeTrue();

        var handler = EngineProcess.Children(engine.Pid).Single();
        var server = EngineProcess.ResidentBytes(engine.Pid);
        var model = EngineProcess.ResidentBytes(handler);

        output.WriteLine($"server {server} B, handler process {model} B, weights {repo.WeightBytes} B");
        File.ReadAllText($"/proc/{handler}/cmdline").ShouldContain("--handler-process");
        model.ShouldBeGreaterThan(repo.WeightBytes);
        server.ShouldBeLessThan(model - repo.WeightBytes / 2);
    }
}
