using System.Diagnostics;
using System.Net;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary>Each injected fault, seen from a real HttpClient, and the request log that lets download tests prove
/// what happened ("resumed from byte N").</summary>
public sealed class HubFaultsTests : IClassFixture<HubEmulatorFixture>
{
    readonly HubEmulatorFixture hub;
    readonly HttpClient client;

    public HubFaultsTests(HubEmulatorFixture hub)
    {
        this.hub = hub;
        client = hub.Client;
        hub.Reset();
    }

    WrittenRepo Qwen => hub.Repo(FixtureCatalog.QwenThinking);

    string Resolve(FixtureSpec spec, string path) => $"{hub.Host.BaseUrl}/{spec.RepoId}/resolve/main/{path}";

    async Task<string> CdnUrlAsync(FixtureSpec spec, string path) =>
        (await client.SendAsync(HttpMethod.Head, Resolve(spec, path))).Headers.Location!.ToString();

    /// <summary>Reads a body until it ends or breaks; returns what arrived and the exception, if any.</summary>
    static async Task<(byte[] Received, Exception? Error)> ReadUntilBrokenAsync(HttpResponseMessage response)
    {
        var received = new MemoryStream();
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.CopyToAsync(received);
            return (received.ToArray(), null);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return (received.ToArray(), e);
        }
    }

    [Fact]
    public async Task Cut_ClientSeesABrokenTransferAfterExactlyNBytes_ThenResumesFromThere()
    {
        var weights = Qwen.Files.Single(f => f.Path == "model.safetensors");
        var bytes = File.ReadAllBytes(Path.Combine(Qwen.Folder, weights.Path));
        const long cutAt = 1_234_567;
        hub.Host.Faults.CutConnection("model.safetensors", cutAt, repo: Qwen.Spec.RepoId);

        var first = await client.SendAsync(HttpMethod.Get, await CdnUrlAsync(Qwen.Spec, "model.safetensors"));
        var (received, error) = await ReadUntilBrokenAsync(first);

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        error.ShouldBeAssignableTo<IOException>();
        received.Length.ShouldBe((int)cutAt);
        received.ShouldBe(bytes[..(int)cutAt]);

        var resumed = await client.SendAsync(HttpMethod.Get, await CdnUrlAsync(Qwen.Spec, "model.safetensors"), range: $"bytes={cutAt}-");
        var (rest, restError) = await ReadUntilBrokenAsync(resumed);

        resumed.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        restError.ShouldBeNull();
        Http.Sha256([.. received, .. rest]).ShouldBe(weights.Etag);

        var cdn = await hub.Host.Requests.WaitForCountAsync(r => r.Listener == Listeners.Cdn, 2);
        cdn[0].Range.ShouldBeNull();
        cdn[0].Fault.ShouldBe("cut");
        cdn[0].Aborted.ShouldBeTrue();
        cdn[0].BytesSent.ShouldBe(cutAt);
        cdn[1].Range.ShouldBe($"bytes={cutAt}-");
        cdn[1].Status.ShouldBe(206);
        cdn[1].BytesSent.ShouldBe(weights.Size - cutAt);
    }

    [Fact]
    public async Task Cut_IsExactForSmallAndLargeOffsetsAndSmallFiles()
    {
        var weights = File.ReadAllBytes(Path.Combine(Qwen.Folder, "model.safetensors"));
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");

        foreach (long cutAt in new long[] { 1, 4095, 65_536, 1_048_577, 3_000_001, weights.Length - 1 })
        {
            hub.Host.Faults.CutConnection("model.safetensors", cutAt);
            var (received, error) = await ReadUntilBrokenAsync(await client.SendAsync(HttpMethod.Get, cdnUrl));
            error.ShouldNotBeNull($"cut at {cutAt}");
            received.Length.ShouldBe((int)cutAt, $"cut at {cutAt}");
            received.ShouldBe(weights[..(int)cutAt]);
        }

        var config = File.ReadAllBytes(Path.Combine(Qwen.Folder, "config.json"));
        hub.Host.Faults.CutConnection("config.json", 100);
        var (configReceived, configError) = await ReadUntilBrokenAsync(await client.SendAsync(HttpMethod.Get, Resolve(Qwen.Spec, "config.json")));
        configError.ShouldNotBeNull();
        configReceived.ShouldBe(config[..100]);
    }

    [Fact]
    public async Task Cut_HappensOnceThenTheFileIsWhole()
    {
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");
        hub.Host.Faults.CutConnection("model.safetensors", 1000);

        var (_, firstError) = await ReadUntilBrokenAsync(await client.SendAsync(HttpMethod.Get, cdnUrl));
        var (second, secondError) = await ReadUntilBrokenAsync(await client.SendAsync(HttpMethod.Get, cdnUrl));

        firstError.ShouldNotBeNull();
        secondError.ShouldBeNull();
        Http.Sha256(second).ShouldBe(Qwen.Files.Single(f => f.Path == "model.safetensors").Etag);
        hub.Host.Faults.Current.Cuts.ShouldBeEmpty();
    }

    [Fact]
    public async Task FailNext_429_AnswersKTimesWithRetryAfterThenServes()
    {
        hub.Host.Faults.FailNext(2, 429, retryAfterSeconds: 7);

        var first = await client.SendAsync(HttpMethod.Get, $"{hub.Host.BaseUrl}/api/models?limit=1");
        var second = await client.SendAsync(HttpMethod.Head, Resolve(Qwen.Spec, "config.json"));
        var third = await client.SendAsync(HttpMethod.Get, $"{hub.Host.BaseUrl}/api/models?limit=1");

        first.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        first.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(7));
        second.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        third.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task FailNext_500_OnlyHitsMatchingPaths()
    {
        hub.Host.Faults.FailNext(1, 500, pathPrefix: "/cdn/");
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");

        var search = await client.SendAsync(HttpMethod.Get, $"{hub.Host.BaseUrl}/api/models?limit=1");
        var failed = await client.SendAsync(HttpMethod.Get, cdnUrl, range: "bytes=0-99");
        var retried = await client.SendAsync(HttpMethod.Get, cdnUrl, range: "bytes=0-99");

        search.StatusCode.ShouldBe(HttpStatusCode.OK);
        failed.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        retried.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        (await hub.Host.Requests.WaitForAsync(r => r.Status == 500)).Fault.ShouldBe("status");
    }

    [Fact]
    public async Task Corrupt_FlipsBytesOnceKeepingTheLength_ThenServesTheTruth()
    {
        var weights = Qwen.Files.Single(f => f.Path == "model.safetensors");
        var truth = File.ReadAllBytes(Path.Combine(Qwen.Folder, weights.Path));
        hub.Host.Faults.Corrupt("model.safetensors", offset: 2_000_000, length: 16);
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");

        var untouchedRange = await (await client.SendAsync(HttpMethod.Get, cdnUrl, range: "bytes=0-999")).Content.ReadAsByteArrayAsync();
        var corrupted = await (await client.SendAsync(HttpMethod.Get, cdnUrl)).Content.ReadAsByteArrayAsync();
        var correct = await (await client.SendAsync(HttpMethod.Get, cdnUrl)).Content.ReadAsByteArrayAsync();

        untouchedRange.ShouldBe(truth[..1000], "a range that misses the offset does not use up the fault");
        corrupted.Length.ShouldBe(truth.Length);
        Http.Sha256(corrupted).ShouldNotBe(weights.Etag);
        Enumerable.Range(0, truth.Length).Where(i => corrupted[i] != truth[i]).ShouldBe(Enumerable.Range(2_000_000, 16));
        Http.Sha256(correct).ShouldBe(weights.Etag);
        (await hub.Host.Requests.WaitForAsync(r => r.Fault == "corrupt")).BytesSent.ShouldBe(weights.Size);
    }

    [Fact]
    public async Task Throttle_PerConnection_KeepsEachTransferNearTheRate()
    {
        const long rate = 1024 * 1024;
        const int size = 384 * 1024;
        hub.Host.Faults.Throttle(bytesPerSecond: null, perConnectionBytesPerSecond: rate);
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");

        var watch = Stopwatch.StartNew();
        var body = await (await client.SendAsync(HttpMethod.Get, cdnUrl, range: $"bytes=0-{size - 1}")).Content.ReadAsByteArrayAsync();
        watch.Stop();

        body.Length.ShouldBe(size);
        double measured = size / watch.Elapsed.TotalSeconds;
        // Pacing never runs ahead of the rate; a loaded machine may only make it slower.
        measured.ShouldBeLessThan(rate * 1.15);
        measured.ShouldBeGreaterThan(rate * 0.05, "pacing must not stall the transfer");
    }

    [Fact]
    public async Task Throttle_Global_IsSharedByParallelTransfers()
    {
        const long rate = 1024 * 1024;
        const int size = 256 * 1024;
        hub.Host.Faults.Throttle(bytesPerSecond: rate);
        var first = await CdnUrlAsync(Qwen.Spec, "model.safetensors");
        var second = await CdnUrlAsync(FixtureCatalog.LlamaTools, "model.safetensors");

        var watch = Stopwatch.StartNew();
        var bodies = await Task.WhenAll(
            Task.Run(async () => await (await client.SendAsync(HttpMethod.Get, first, range: $"bytes=0-{size - 1}")).Content.ReadAsByteArrayAsync()),
            Task.Run(async () => await (await client.SendAsync(HttpMethod.Get, second, range: $"bytes=0-{size - 1}")).Content.ReadAsByteArrayAsync()));
        watch.Stop();

        bodies.ShouldAllBe(b => b.Length == size);
        double combined = 2.0 * size / watch.Elapsed.TotalSeconds;
        combined.ShouldBeLessThan(rate * 1.15);
        combined.ShouldBeGreaterThan(rate * 0.05, "pacing must not stall the transfers");
    }

    [Fact]
    public async Task Throttle_Lifted_ServesAtFullSpeedAgain()
    {
        hub.Host.Faults.Throttle(bytesPerSecond: 1024);
        hub.Host.Faults.Throttle(bytesPerSecond: null);
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");

        var watch = Stopwatch.StartNew();
        var body = await (await client.SendAsync(HttpMethod.Get, cdnUrl)).Content.ReadAsByteArrayAsync();

        body.Length.ShouldBe((int)Qwen.Files.Single(f => f.Path == "model.safetensors").Size);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task IgnoreRange_AnswersARangedRequestWithTheWholeFile_UntilSwitchedOff()
    {
        var config = Qwen.Files.Single(f => f.Path == "config.json");
        hub.Host.Faults.IgnoreRange();

        var whole = await client.SendAsync(HttpMethod.Get, Resolve(Qwen.Spec, "config.json"), range: "bytes=0-9");
        var body = await whole.Content.ReadAsByteArrayAsync();

        whole.StatusCode.ShouldBe(HttpStatusCode.OK);
        whole.Content.Headers.ContentRange.ShouldBeNull();
        body.Length.ShouldBe((int)config.Size);
        (await hub.Host.Requests.WaitForAsync(r => r.Fault == "ignore-range")).Range.ShouldBe("bytes=0-9");

        hub.Host.Faults.IgnoreRange(false);
        var ranged = await client.SendAsync(HttpMethod.Get, Resolve(Qwen.Spec, "config.json"), range: "bytes=0-9");
        ranged.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        (await ranged.Content.ReadAsByteArrayAsync()).Length.ShouldBe(10);
    }

    [Fact]
    public async Task DelayFirstByte_HoldsTheResponseBack()
    {
        hub.Host.Faults.DelayFirstByte(TimeSpan.FromMilliseconds(400), pathPrefix: "/api/models", count: 1);

        var watch = Stopwatch.StartNew();
        var delayed = await client.SendAsync(HttpMethod.Get, $"{hub.Host.BaseUrl}/api/models?limit=1");
        var delayedTime = watch.Elapsed;

        delayed.StatusCode.ShouldBe(HttpStatusCode.OK);
        delayedTime.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(390));
        (await hub.Host.Requests.WaitForAsync(r => r.Fault == "delay")).Path.ShouldBe("/api/models");
        hub.Host.Faults.Current.Delays.ShouldBeEmpty();
    }

    [Fact]
    public async Task RequestLog_RecordsMethodPathRangeStatusAndBytes()
    {
        var cdnUrl = await CdnUrlAsync(Qwen.Spec, "model.safetensors");
        await (await client.SendAsync(HttpMethod.Get, cdnUrl, range: "bytes=100-199")).Content.ReadAsByteArrayAsync();

        var entries = await hub.Host.Requests.WaitForCountAsync(_ => true, 2);

        entries[0].Method.ShouldBe("HEAD");
        entries[0].Listener.ShouldBe(Listeners.Hub);
        entries[0].Path.ShouldBe($"/{Qwen.Spec.RepoId}/resolve/main/model.safetensors");
        entries[0].Status.ShouldBe(302);
        entries[0].BytesSent.ShouldBe(0);
        entries[1].Method.ShouldBe("GET");
        entries[1].Listener.ShouldBe(Listeners.Cdn);
        entries[1].Range.ShouldBe("bytes=100-199");
        entries[1].Status.ShouldBe(206);
        entries[1].BytesSent.ShouldBe(100);
        entries[1].Sequence.ShouldBeGreaterThan(entries[0].Sequence);
    }

    [Fact]
    public async Task Faults_GivenInTheOptions_AreActiveFromTheStart()
    {
        await using var host = await hub.StartAnotherAsync(o => o with
        {
            Faults = new FaultSettings { Failures = [new StatusFailure { Status = 503, Count = 1 }] },
        });

        var first = await client.SendAsync(HttpMethod.Get, $"{host.BaseUrl}/api/models");
        var second = await client.SendAsync(HttpMethod.Get, $"{host.BaseUrl}/api/models");

        first.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        first.Headers.RetryAfter.ShouldNotBeNull();
        second.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
