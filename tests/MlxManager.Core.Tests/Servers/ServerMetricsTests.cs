using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

/// <summary>BUGFIX-07 end to end: what the sampler reports for servers the supervisor started.</summary>
[Collection(ServersCollection.Name)]
public sealed class ServerMetricsTests(EngineWorld world, ITestOutputHelper output)
{
    private static readonly TimeSpan LoadWait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(MlxLmServer.EngineKey, false)]
    [InlineData(MlxLmServer.EngineKey, true)]
    [InlineData(MlxOpenAiServer.EngineKey, false)]
    public async Task Memory_OfTheLargeModelsServer_HoldsItsWeightsWithinTwentyPercent(string engine, bool wrapper)
    {
        await using var host = await SupervisorHost.StartAsync(world, output, wrapperLaunchers: wrapper);
        // The same engine with a 4 MB model beside it: what the runtime itself costs (≈ 70 MB for the .NET
        // stand-in, several hundred MB for Python + MLX), so that the difference is the model's share.
        var large = await host.AddProfileAsync("large", engine, FixtureCatalog.Large.RepoId);
        var small = await host.AddProfileAsync("small", engine, FixtureCatalog.QwenThinking.RepoId);
        var server = await StartReadyAsync(host, large.Id);
        await StartReadyAsync(host, small.Id);

        var metrics = await NextSampleAsync(host, large.Id);
        var baseline = await NextSampleAsync(host, small.Id);

        var weights = FixtureCatalog.Large.WeightBytes - FixtureCatalog.QwenThinking.WeightBytes;
        var share = metrics.MemoryBytes - baseline.MemoryBytes;
        output.WriteLine($"{engine} wrapper={wrapper}: {metrics.ProcessCount} processes, {metrics.MemoryBytes / 1e6:0.0} MB; "
                         + $"beside a small model's {baseline.MemoryBytes / 1e6:0.0} MB: {share / 1e6:0.0} MB for {weights / 1e6:0.0} MB of extra weights");
        metrics.IsRunning.ShouldBeTrue();
        metrics.Root.ShouldBe(server.Process!.Value);
        metrics.MemoryBytes.ShouldBeGreaterThan(FixtureCatalog.Large.WeightBytes, "the whole tree is measured, weights included");
        ((double)share).ShouldBeInRange(weights * 0.8, weights * 1.2, "the model's share of the measured memory is its weights");
        if (wrapper || engine == MlxOpenAiServer.EngineKey)
        {
            metrics.ProcessCount.ShouldBeGreaterThanOrEqualTo(2, "the model lives in a child of the process the supervisor started");
        }

        metrics.MemoryFraction.ShouldNotBeNull().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Cpu_IsAboveZeroWhileGenerating_AndNearZeroWhenIdle()
    {
        await using var host = await SupervisorHost.StartAsync(world, output);
        var profile = await host.AddProfileAsync("cpu", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, "EMULATOR_TOKEN_RATE=25");
        var server = await StartReadyAsync(host, profile.Id);
        await NextSampleAsync(host, profile.Id);
        await NextSampleAsync(host, profile.Id);
        var idle = await NextSampleAsync(host, profile.Id);

        var generating = Completions.AskAsync(server.ChatCompletionsUrl, server.Model.Reference, "Write a lot [[tokens:150]]", maxTokens: 400);
        await Task.Delay(TimeSpan.FromSeconds(1));
        // Every sample taken while it generates (about 6 s): on a loaded machine one 500 ms window may
        // find the engine waiting for a core, so the test looks at the busiest, not at one by chance.
        var busy = new List<double>();
        while (!generating.IsCompleted)
        {
            busy.Add((await NextSampleAsync(host, profile.Id)).CpuPercent!.Value);
        }

        (await generating).ShouldNotBeEmpty();

        output.WriteLine($"idle {idle.CpuPercent:0.0} %, generating {string.Join(", ", busy.Select(b => b.ToString("0.0")))} %");
        idle.CpuPercent.ShouldNotBeNull().ShouldBeLessThan(5, "an idle engine uses next to no CPU");
        busy.ShouldNotBeEmpty();
        busy.Max().ShouldBeGreaterThan(20, "the emulator spins a core for each generation step");
        host.Metrics.HistoryFor(profile.Id).ShouldNotBeNull().Count.ShouldBeGreaterThanOrEqualTo(4);
    }

    [Fact]
    public async Task Stop_UntracksTheServer()
    {
        await using var host = await SupervisorHost.StartAsync(world, output);
        var profile = await host.AddProfileAsync("untrack", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        await StartReadyAsync(host, profile.Id);
        host.Metrics.TrackedServers.ShouldContain(profile.Id);

        await host.Supervisor.StopServerAsync(profile.Id, CancellationToken.None);

        host.Metrics.TrackedServers.ShouldNotContain(profile.Id);
    }

    private static async Task<ServerSnapshot> StartReadyAsync(SupervisorHost host, int profileId)
    {
        var started = await host.Supervisor.StartServerAsync(profileId, CancellationToken.None);
        started.Succeeded.ShouldBeTrue(started.Message);
        var ready = await host.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait);
        ready!.State.ShouldBe(ServerState.Ready, ready.Detail);
        return ready;
    }

    /// <summary>The server's entry of the next tick the background sampler publishes.</summary>
    private static async Task<ServerMetrics> NextSampleAsync(SupervisorHost host, int serverId)
    {
        using var subscription = host.Metrics.Subscribe();
        subscription.Reader.TryRead(out _); // the latest one, handed out at once
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var snapshot = await subscription.Reader.ReadAsync(timeout.Token);
            if (snapshot.Servers.FirstOrDefault(s => s.ServerId == serverId) is { CpuPercent: not null } metrics)
            {
                return metrics;
            }
        }
    }
}
