using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Discovery;
using MlxManager.Core.Discovery.Jobs;
using MlxManager.Core.Hub;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Web.Tests.Models;

/// <summary>Detection jobs (real Hangfire, real SQLite) reading from the HubEmulator; the cache per repo@commit.</summary>
public sealed class ModelDetectionsTests
{
    private static readonly FixtureSpec[] Specs = [FixtureCatalog.QwenThinking, FixtureCatalog.GemmaVision, FixtureCatalog.LlamaTools];

    private static async Task<IReadOnlyList<DetectionRequest>> HubRequestsAsync(ModelsHost host, IEnumerable<FixtureSpec> specs) =>
        await host.App.WithScopeAsync<IReadOnlyList<DetectionRequest>>(async services =>
        {
            var hub = services.GetRequiredService<HubClient>();
            var requests = new List<DetectionRequest>();
            foreach (var spec in specs)
            {
                var model = await hub.GetModelAsync(spec.RepoId);
                requests.Add(new DetectionRequest(model.Id, model.Sha!, DetectionSourceKind.Hub, null, new DetectionHints(model.Tags, model.SafetensorsParameters)));
            }

            return requests;
        });

    private static Task<IReadOnlyDictionary<string, DetectionStatus>> SettleAsync(ModelDetections detections, IReadOnlyList<DetectionRequest> requests) =>
        Eventually.ValueAsync(() => detections.EnsureAsync(requests), statuses => statuses.Values.All(s => !s.IsPending), TimeSpan.FromSeconds(30), "detections finish");

    [Fact]
    public async Task Ensure_HubModels_DetectsFromMetadataAndHeadersOnlyThenReusesTheCache()
    {
        await using var host = await ModelsHost.StartAsync();
        var detections = host.App.Services.GetRequiredService<ModelDetections>();
        var requests = await HubRequestsAsync(host, Specs);
        host.Hub!.Requests.Clear();

        var first = await SettleAsync(detections, requests);
        var fetched = host.Hub.Requests.Entries.ToList();
        var second = await detections.EnsureAsync(requests);

        first.Values.ShouldAllBe(s => s.State == DetectionState.Done && s.Characteristics != null);
        var qwen = first[ModelDetections.Key(FixtureCatalog.QwenThinking.RepoId, requests[0].Commit)].Characteristics!;
        qwen.Thinking.Supported.ShouldBe(true);
        qwen.Tools.Supported.ShouldBe(true);
        qwen.Parameters.ShouldNotBeNull().Method.ShouldBe(ParameterCountMethod.SafetensorsHeaders);
        qwen.WeightBytes.ShouldNotBeNull();
        first[ModelDetections.Key(FixtureCatalog.GemmaVision.RepoId, requests[1].Commit)].Characteristics!.Vision!.Value.ShouldBeTrue();

        var resolved = fetched.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal))
            .Select(r => r.Path[(r.Path.IndexOf("/resolve/", StringComparison.Ordinal) + 9)..].Split('/', 2)[1]).ToList();
        resolved.ShouldNotBeEmpty();
        resolved.ShouldAllBe(path => ModelCharacteristicsDetector.IsMetadataFile(path) || path.EndsWith(".safetensors", StringComparison.Ordinal));
        fetched.Where(r => r.Listener == Listeners.Cdn).ShouldAllBe(r => r.Range != null && r.Range.StartsWith("bytes=0-", StringComparison.Ordinal));
        fetched.Count(r => r.Path.Contains("/tree/", StringComparison.Ordinal)).ShouldBe(Specs.Length);

        second.Values.ShouldAllBe(s => s.State == DetectionState.Done);
        host.Hub.Requests.Entries.Count.ShouldBe(fetched.Count, "a second search makes no new metadata fetches");
    }

    [Fact]
    public async Task Ensure_SameRequestsAtOnce_QueuesOneJobPerRepoAtCommit()
    {
        await using var host = await ModelsHost.StartAsync();
        var detections = host.App.Services.GetRequiredService<ModelDetections>();
        var requests = await HubRequestsAsync(host, Specs);
        host.Hub!.Requests.Clear();

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => detections.EnsureAsync(requests)));
        await SettleAsync(detections, requests);

        var rows = await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ModelDetections.AsNoTracking().ToListAsync());
        rows.Count.ShouldBe(Specs.Length);
        rows.ShouldAllBe(r => r.Attempts == 1);
        host.Hub.Requests.Entries.Count(r => r.Path.Contains("/tree/", StringComparison.Ordinal)).ShouldBe(Specs.Length);
    }

    [Fact]
    public async Task Ensure_ResultOfAnOlderDetectorVersion_IsDetectedAgain()
    {
        await using var host = await ModelsHost.StartAsync();
        var detections = host.App.Services.GetRequiredService<ModelDetections>();
        var requests = await HubRequestsAsync(host, [FixtureCatalog.Phi8Bit]);
        await SettleAsync(detections, requests);
        await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ModelDetections
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.DetectorVersion, ModelCharacteristicsDetector.Version - 1)));
        host.Hub!.Requests.Clear();
        // A new detector version ships in a new build: the process that reads the old rows starts with an empty memory.
        var restarted = ActivatorUtilities.CreateInstance<ModelDetections>(host.App.Services);

        var requeued = await restarted.EnsureAsync(requests);
        var settled = await SettleAsync(restarted, requests);

        requeued.Values.Single().IsPending.ShouldBeTrue();
        settled.Values.Single().State.ShouldBe(DetectionState.Done);
        var row = await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ModelDetections.AsNoTracking().SingleAsync());
        row.DetectorVersion.ShouldBe(ModelCharacteristicsDetector.Version);
        row.Attempts.ShouldBe(2);
        host.Hub.Requests.Entries.Count(r => r.Path.Contains("/tree/", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact]
    public async Task Ensure_GatedRepoWithoutToken_RecordsWhyItFailed()
    {
        await using var host = await ModelsHost.StartAsync();
        var detections = host.App.Services.GetRequiredService<ModelDetections>();
        var requests = await HubRequestsAsync(host, [FixtureCatalog.Gated]);

        var status = (await SettleAsync(detections, requests)).Values.Single();

        status.State.ShouldBe(DetectionState.Failed);
        status.Failure.ShouldNotBeNull().ShouldContain("gated");
        status.Failure.ShouldContain($"{host.Hub!.BaseUrl}/{FixtureCatalog.Gated.RepoId}");
    }

    [Fact]
    public async Task Ensure_GatedRepoWithStoredToken_Detects()
    {
        await using var host = await ModelsHost.StartAsync();
        await host.App.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<MlxManager.Core.Library.ModelSettingsStore>().SetHubTokenAsync(ModelsHost.HubToken, null);
            return true;
        });
        var detections = host.App.Services.GetRequiredService<ModelDetections>();
        var requests = await HubRequestsAsync(host, [FixtureCatalog.Gated]);

        var status = (await SettleAsync(detections, requests)).Values.Single();

        status.State.ShouldBe(DetectionState.Done, status.Failure);
        status.Characteristics!.Tools.Supported.ShouldBe(true);
    }

    [Fact]
    public async Task Ensure_UnknownCommit_RecordsTheRevisionProblem()
    {
        await using var host = await ModelsHost.StartAsync();
        var detections = host.App.Services.GetRequiredService<ModelDetections>();
        DetectionRequest[] requests = [new(FixtureCatalog.Phi8Bit.RepoId, new string('0', 40), DetectionSourceKind.Hub)];

        var status = (await SettleAsync(detections, requests)).Values.Single();

        status.State.ShouldBe(DetectionState.Failed);
        status.Failure.ShouldNotBeNull().ShouldContain("has no revision");
    }
}
