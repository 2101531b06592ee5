using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Engines;
using MlxManager.Core.Gateway;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Tests.Gateway;

public class GatewayUsageTests
{
    private static readonly DateTimeOffset Started = new(2026, 1, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Started);
    private readonly GatewayLanes _lanes;
    private readonly GatewayOptions _options = new() { DefaultIdleTimeout = TimeSpan.FromMinutes(30) };

    public GatewayUsageTests() => _lanes = new GatewayLanes(_time);

    [Fact]
    public void AServerUsedTwoMinutesAgo_SaysItsRequests_LastUse_AndWhenItUnloads()
    {
        var server = Ready(new Profile { Id = 1 });
        _time.Advance(TimeSpan.FromMinutes(1));
        Serve(server, 3);
        _time.Advance(TimeSpan.FromMinutes(2));

        Line(server).ShouldBe("Gateway: 3 requests · used 2 min ago · unloads in 28 min");
    }

    [Fact]
    public void ANewServer_IsNotUsedYet_AndCountsItsIdleTimeFromReady()
    {
        var server = Ready(new Profile { Id = 2, UnloadAfterIdleMinutes = 10 });
        _time.Advance(TimeSpan.FromSeconds(30));

        Line(server).ShouldBe("Gateway: 0 requests · not used yet · unloads in 9 min");
    }

    [Fact]
    public void KeptLoaded_AndIdleZero_NeverUnload()
    {
        Line(Ready(new Profile { Id = 3, KeepLoaded = true })).ShouldEndWith("· kept loaded");
        Line(Ready(new Profile { Id = 4, UnloadAfterIdleMinutes = 0 })).ShouldEndWith("· never unloads");
    }

    [Fact]
    public void WhileRequestsRun_TheLineSaysSo_AndTheCountdownWaitsForTheLastOne()
    {
        var server = Ready(new Profile { Id = 5 });
        using var running = _lanes.Join(5);
        running.Forwarded(server.RunId);

        Line(server).ShouldBe("Gateway: 1 request · 1 in flight · unloads 30 min after its last request");
    }

    [Fact]
    public void RequestsToAnEarlierRun_DoNotCount()
    {
        var earlier = Ready(new Profile { Id = 6 });
        Serve(earlier, 2);
        var restarted = earlier with { RunId = earlier.RunId + 1, StartedAt = _time.GetUtcNow().AddSeconds(1), ReadyAt = _time.GetUtcNow().AddSeconds(2) };
        _time.Advance(TimeSpan.FromSeconds(5));

        Line(restarted).ShouldStartWith("Gateway: 0 requests · not used yet");
    }

    private string Line(ServerSnapshot server) => GatewayUsage.Describe(server, server.Profile, _lanes, _options, _time.GetUtcNow());

    private void Serve(ServerSnapshot server, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            using var ticket = _lanes.Join(server.ServerId);
            ticket.Forwarded(server.RunId);
        }
    }

    private ServerSnapshot Ready(Profile profile)
    {
        profile.Name = "p" + profile.Id;
        var now = _time.GetUtcNow();
        return new ServerSnapshot(profile.Id, 100 + profile.Id, profile, new MlxLmServer(), new ResolvedModel("org/model"), ServerState.Ready, "Ready.", [], null,
            now, now, null, null, false, "mlx_lm.server", 1);
    }
}
