using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Gateway;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Gateway;

/// <summary>Memory-aware admission through real HTTP, with emulated engines as real processes and a 1.2 GiB budget.</summary>
public sealed class GatewayMemoryTests(MemoryGatewayHost host) : IClassFixture<MemoryGatewayHost>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>Each test starts with no server running (they share the host and its budget).</summary>
    public async Task InitializeAsync()
    {
        foreach (var server in host.Supervisor.Servers.Where(s => s.IsActive))
        {
            await host.Supervisor.StopServerAsync(server.ServerId, CancellationToken.None);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task WhenMemoryIsShort_TheLeastRecentlyUsedIdleServer_IsStoppedToMakeRoom_AndTheReasonIsRecorded()
    {
        var older = await AddAsync("LRU older");
        var newer = await AddAsync("LRU newer");
        var wanted = await AddAsync("LRU wanted");
        var (client, bob) = await host.NewAccountAsync();
        await AskAsync(client, older);
        await AskAsync(client, newer);

        await AskAsync(client, wanted);

        var reason = $"Stopped to make room for LRU wanted (asked by {bob.Email})";
        host.Supervisor.Find(older.Id)!.State.ShouldBe(ServerState.Stopped);
        host.Supervisor.Find(older.Id)!.Detail.ShouldStartWith(reason);
        host.Supervisor.Find(newer.Id)!.State.ShouldBe(ServerState.Ready, "used more recently: it stays");
        host.Supervisor.Find(wanted.Id)!.State.ShouldBe(ServerState.Ready);
        var run = await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ServerRuns
            .Where(r => r.ProfileId == older.Id).OrderByDescending(r => r.Id).FirstAsync());
        run.Reason.ShouldNotBeNull();
        run.Reason.ShouldStartWith(reason, Case.Sensitive, "the eviction is in the run's record too");
        client.Dispose();
    }

    [Fact]
    public async Task KeptLoadedAndBusyServers_AreNeverStopped_NothingStarts_And503InsufficientMemoryHasTheFigures()
    {
        var pinned = await AddAsync("Pinned Llama", p => p.KeepLoaded = true);
        var busy = await AddAsync("Busy Llama");
        var wanted = await AddAsync("Third Llama");
        using var client = await host.NewClientAsync();
        await AskAsync(client, pinned);
        using var leave = new CancellationTokenSource();
        var hanging = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHost.Chat(busy.Name, "Hi [[hang]]", stream: true)) },
            HttpCompletionOption.ResponseHeadersRead, leave.Token);
        hanging.StatusCode.ShouldBe(HttpStatusCode.OK);
        await Eventually.WaitUntilAsync(() => host.Supervisor.Find(busy.Id) is { IsReady: true }, Patience, "busy because of its request, not because it loads");

        var refused = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat(wanted.Name, "Hi"));

        var text = await refused.Content.ReadAsStringAsync();
        var error = await GatewayTests.ErrorAsync(refused, HttpStatusCode.ServiceUnavailable);
        ((string?)error["code"]).ShouldBe("insufficient_memory");
        var message = (string)error["message"]!;
        message.ShouldContain("\"Third Llama\"");
        message.ShouldContain("\"Pinned Llama\"");
        message.ShouldContain("(kept loaded)");
        message.ShouldContain("\"Busy Llama\"");
        message.ShouldContain("(busy)");
        var memory = JsonNode.Parse(text)!["memory"]!;
        ((long)memory["budget_bytes"]!).ShouldBe(MemoryGatewayHost.Budget);
        ((long)memory["needed_bytes"]!).ShouldBeGreaterThan((long)memory["free_bytes"]!);
        memory["servers"]!.AsArray().Select(s => ((string)s!["profile"]!, (string)s["role"]!)).Order()
            .ShouldBe([("Busy Llama", "busy"), ("Pinned Llama", "pinned")]);
        (await RunsOfAsync(wanted)).ShouldBe(0, "a server that does not fit is never started");
        host.Supervisor.Find(pinned.Id)!.State.ShouldBe(ServerState.Ready);
        host.Supervisor.Find(busy.Id)!.State.ShouldBe(ServerState.Ready);

        // Once the busy one is idle it may go — not the kept-loaded one, although that was used longer ago.
        leave.Cancel();
        hanging.Dispose();
        await Eventually.WaitUntilAsync(() => host.Lanes.InFlight(busy.Id) == 0, Patience, "the hanging request ended with its client");
        await AskAsync(client, wanted);

        host.Supervisor.Find(busy.Id)!.State.ShouldBe(ServerState.Stopped);
        host.Supervisor.Find(busy.Id)!.Detail.ShouldStartWith("Stopped to make room for Third Llama (asked by ");
        host.Supervisor.Find(pinned.Id)!.State.ShouldBe(ServerState.Ready);
    }

    [Fact]
    public async Task ConcurrentStartsOfDifferentProfiles_NeverHoldMoreThanTheBudget()
    {
        var profiles = new[] { await AddAsync("Race one"), await AddAsync("Race two"), await AddAsync("Race three") };
        using var client = await host.NewClientAsync();

        var responses = await Task.WhenAll(profiles.Select(p => client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat(p.Name, "Hi [[tokens:2]]"))));

        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            ((string?)(await GatewayTests.ErrorAsync(response, HttpStatusCode.ServiceUnavailable))["code"]).ShouldBe("insufficient_memory");
        }

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBeGreaterThanOrEqualTo(2);
        var ids = profiles.Select(p => p.Id).ToList();
        var runs = await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ServerRuns.AsNoTracking()
            .Where(r => ids.Contains(r.ProfileId)).ToListAsync());
        foreach (var run in runs)
        {
            // Servers whose runs overlap the start of this one (an evicted run ends before the next starts).
            runs.Count(other => other.StartedAtUtc <= run.StartedAtUtc && (other.EndedAtUtc is not { } ended || ended > run.StartedAtUtc))
                .ShouldBeLessThanOrEqualTo(2, "two servers fit in the budget, never three");
        }
    }

    [Fact]
    public async Task ARequestArrivingWhileItsServerIsStopped_WaitsAndStartsItAgain()
    {
        var profile = await AddAsync("Restarted Llama");
        using var client = await host.NewClientAsync();
        await AskAsync(client, profile);
        var admission = host.App.Services.GetRequiredService<GatewayAdmission>();

        var stop = admission.StopIdleAsync(profile.Id, "Unloaded for the test.");
        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat(profile.Name, "Hi [[tokens:2]]"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        await stop;
    }

    private async Task<Profile> AddAsync(string name, Action<Profile>? configure = null)
    {
        var profile = await SeedProfiles.AddAsync(host.App, name, FixtureCatalog.LlamaTools.RepoId, configure: p =>
        {
            p.ContextLength = 2048;
            p.MaxTokens = 512;
            configure?.Invoke(p);
        });
        var plan = await host.App.Services.GetRequiredService<GatewayAdmission>().PlanAsync(profile, CancellationToken.None);
        plan.NeededBytes.ShouldNotBeNull();
        plan.NeededBytes.Value.ShouldBeInRange(MemoryGatewayHost.Budget / 3, MemoryGatewayHost.Budget / 2, "the budget holds two such servers, not three");
        return profile;
    }

    private static async Task AskAsync(HttpClient client, Profile profile)
    {
        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat(profile.Name, "Hi [[tokens:2]]"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private Task<int> RunsOfAsync(Profile profile) =>
        host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ServerRuns.CountAsync(r => r.ProfileId == profile.Id));
}
