using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Downloads;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Testing;

namespace MlxManager.Core.Tests.Downloads;

/// <summary>The download engine against the in-process HubEmulator and its faults: real HTTP, real files.</summary>
public sealed class ModelDownloaderTests(DownloadHubFixture fixture) : IClassFixture<DownloadHubFixture>
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private string RepoId => fixture.Repo.Spec.RepoId;

    private RepoFile Shard(int number) => fixture.Repo.Files.Single(f => f.Path == $"model-{number:D5}-of-00003.safetensors");

    private static string CdnPath(RepoFile file) => $"/cdn/repos/{file.Etag}";

    private string ResolvePath(RepoFile file) => $"/{RepoId}/resolve/{fixture.Repo.Commit}/{file.Path}";

    [Fact]
    public async Task Download_ShardedRepo_WritesTheHuggingFaceCacheLayoutFileByFile()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);

        var (plan, progress) = await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var cache = rig.Cache(RepoId);
        plan.Commit.ShouldBe(fixture.Repo.Commit);
        plan.Files.Select(f => f.Path).ShouldBe(fixture.Repo.Files.Select(f => f.Path), ignoreOrder: true);
        fixture.Repo.Files.Count(f => f.IsLfs).ShouldBe(3);
        fixture.Repo.Files.ShouldContain(f => f.Path == "deep/er/notes.txt");
        foreach (var file in fixture.Repo.Files)
        {
            var blob = Path.Combine(cache.Folder, "blobs", file.Etag);
            File.Exists(blob).ShouldBeTrue($"blob of {file.Path}");
            new FileInfo(blob).LinkTarget.ShouldBeNull("blobs are regular files");
            (file.IsLfs ? Sha256(blob) : GitObjects.GitBlobSha1(blob)).ShouldBe(file.Etag, $"content of {file.Path}");
            File.ReadAllBytes(blob).ShouldBe(File.ReadAllBytes(fixture.SourceOf(file.Path)), $"bytes of {file.Path}");

            var link = new FileInfo(Path.Combine([cache.Folder, "snapshots", fixture.Repo.Commit, .. file.Path.Split('/')]));
            var depth = file.Path.Count(c => c == '/');
            link.LinkTarget.ShouldBe(string.Concat(Enumerable.Repeat("../", depth + 2)) + "blobs/" + file.Etag, $"relative link of {file.Path}");
            File.ReadAllBytes(link.FullName).ShouldBe(File.ReadAllBytes(blob));

            File.Exists(Path.Combine(rig.HubCache, ".locks", "models--mlx-community--Qwen3-Sharded-Test-4bit", file.Etag + ".lock")).ShouldBeTrue($"lock of {file.Path}");
        }

        File.ReadAllBytes(Path.Combine(cache.Folder, "refs", "main")).ShouldBe(System.Text.Encoding.ASCII.GetBytes(fixture.Repo.Commit), "40 hex, no newline");
        Directory.GetFiles(Path.Combine(cache.Folder, "blobs")).Length.ShouldBe(fixture.Repo.Files.Select(f => f.Etag).Distinct().Count());
        Directory.EnumerateFiles(rig.HubCache, "*.incomplete", SearchOption.AllDirectories).ShouldBeEmpty();
        Directory.EnumerateFiles(rig.HubCache, "*.tmp", SearchOption.AllDirectories).ShouldBeEmpty();
        Directory.GetFileSystemEntries(Path.Combine(cache.Folder, "refs")).Select(Path.GetFileName).ShouldBe(["main"]);

        var manifest = rig.Manifests.Find(RepoId, fixture.Repo.Commit).ShouldNotBeNull();
        manifest.Files.Select(f => (f.Path, f.Size)).ShouldBe(fixture.Repo.Files.Select(f => (f.Path, f.Size)), ignoreOrder: true);
        progress.CompletedBytes.ShouldBe(fixture.Repo.Files.Sum(f => f.Size));
        progress.Snapshot().FilesDone.ShouldBe(fixture.Repo.Files.Count);

        // The library reads it back as a complete model, judged by the recorded file list.
        var library = new ModelLibrary(rig.Environment, new LibraryOptions(), TimeProvider.System, manifests: rig.Manifests);
        var local = library.Find(RepoId).ShouldNotBeNull();
        local.Completeness.ShouldBe(ModelCompleteness.Complete, local.CompletenessReason);
        local.Revision.ShouldBe(fixture.Repo.Commit);
    }

    [Fact]
    public async Task Download_LfsFiles_ComeFromTheCdnWithoutTheToken()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub, token: DownloadHubFixture.Token);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var requests = hub.Requests.Entries;
        var cdn = requests.Where(r => r.Listener == Listeners.Cdn).ToList();
        cdn.Count.ShouldBe(3, "one CDN request per shard");
        cdn.ShouldAllBe(r => !r.HadAuthorization && r.Status == 200);
        requests.Where(r => r.Listener == Listeners.Hub).ShouldAllBe(r => r.HadAuthorization);
    }

    [Fact]
    public async Task Download_ConnectionCutMidFile_ResumesFromTheByteItHadAfterAFreshResolve()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        var shard = Shard(2);
        const long cutAt = 1_234_567;
        hub.Faults.CutConnection(shard.Path, afterBytes: cutAt, repo: RepoId);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var transfers = await hub.Requests.WaitForCountAsync(r => r.Path == CdnPath(shard), 2);
        transfers[0].Range.ShouldBeNull();
        transfers[0].Fault.ShouldBe("cut");
        transfers[0].BytesSent.ShouldBe(cutAt);
        transfers[1].Range.ShouldBe($"bytes={cutAt}-", "resumed from the byte it had, not from zero");
        transfers[1].Status.ShouldBe(206);
        transfers[1].BytesSent.ShouldBe(shard.Size - cutAt);
        hub.Requests.Entries.Count(r => r.Method == "GET" && r.Path == ResolvePath(shard)).ShouldBe(2, "a fresh resolve (new signed URL) before the resume");
        Sha256(rig.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
    }

    [Fact]
    public async Task Download_SmallFileCut_ResumesWithRangeFromTheHub()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        var tokenizer = fixture.Repo.Files.Single(f => f.Path == "tokenizer.json");
        hub.Faults.CutConnection(tokenizer.Path, afterBytes: 100, repo: RepoId);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var gets = await hub.Requests.WaitForCountAsync(r => r.Method == "GET" && r.Path == ResolvePath(tokenizer), 2);
        gets[1].Range.ShouldBe("bytes=100-");
        gets[1].Status.ShouldBe(206);
        GitObjects.GitBlobSha1(rig.Cache(RepoId).BlobPath(tokenizer.Etag)).ShouldBe(tokenizer.Etag);
    }

    [Fact]
    public async Task Download_CorruptedBytes_AreCaughtBySha256AndThatFileIsDownloadedAgain()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        var shard = Shard(1);
        hub.Faults.Corrupt(shard.Path, offset: 2_000_000, length: 16, repo: RepoId);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var transfers = await hub.Requests.WaitForCountAsync(r => r.Path == CdnPath(shard), 2);
        transfers.Count.ShouldBe(2);
        transfers[0].Fault.ShouldBe("corrupt");
        transfers[1].Fault.ShouldBeNull();
        transfers[1].Range.ShouldBeNull("a damaged file starts over from zero");
        Sha256(rig.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
        hub.Requests.Entries.Count(r => r.Listener == Listeners.Cdn && r.Path != CdnPath(shard)).ShouldBe(2, "the other shards were fetched once");
    }

    [Fact]
    public async Task Download_429And5xxBursts_AreRetriedUntilTheDownloadCompletes()
    {
        await using var hub = await fixture.StartAsync();
        // Bursts of up to five failures in a row, one request's share at worst: within the Hub client's six attempts.
        using var rig = new DownloadRig(hub, hubOptions: new HubClientOptions
        {
            MaxAttempts = 6,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        });
        hub.Faults.FailNext(4, status: 429, pathPrefix: "/cdn/", retryAfterSeconds: 0);
        hub.Faults.FailNext(5, status: 500, pathPrefix: $"/{RepoId}/resolve/");
        hub.Faults.FailNext(2, status: 503, pathPrefix: $"/api/models/{RepoId}/tree", retryAfterSeconds: 0);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var entries = hub.Requests.Entries;
        entries.Count(r => r.Status == 429).ShouldBe(4);
        entries.Count(r => r.Status == 500).ShouldBe(5);
        entries.Count(r => r.Status == 503).ShouldBe(2);
        foreach (var file in fixture.Repo.Files)
        {
            File.Exists(rig.Cache(RepoId).BlobPath(file.Etag)).ShouldBeTrue(file.Path);
        }
    }

    [Fact]
    public async Task Download_RequestFailingEveryAttempt_FailsWithTheReason_AfterOneLayerOfRetries()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub, options: DownloadRig.Fast(o => (o.MaxRetries, o.ParallelFiles) = (2, 1)));
        var plan = await rig.Downloader.PlanAsync(RepoId);
        hub.Faults.FailNext(1000, status: 502, pathPrefix: "/cdn/");

        var failure = await Should.ThrowAsync<HubException>(() => rig.Downloader.DownloadAsync(plan, new DownloadProgress()).WaitAsync(Generous));

        failure.Kind.ShouldBe(HubErrorKind.ServerError);
        failure.Message.ShouldContain("HTTP 502");
        failure.Message.ShouldContain($"{rig.HubOptions.MaxAttempts} times in a row");
        hub.Requests.Entries.Count(r => r.Listener == Listeners.Cdn).ShouldBe(rig.HubOptions.MaxAttempts, "the Hub client's attempts, not multiplied by the downloader's");
    }

    [Fact]
    public async Task Download_BodyLongerThanTheRequestTimeout_IsNotCutByIt()
    {
        await using var hub = await fixture.StartAsync();
        // The pipeline's clock is the test's: no attempt times out unless the test moves the clock, however busy the
        // machine. It is moved past the timeout many times over while the largest body is still arriving — one file at a
        // time, so that no other request is waiting for its headers (and would rightly time out) when the clock moves.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        hub.Faults.Throttle(null, perConnectionBytesPerSecond: 1_000_000);
        using var rig = new DownloadRig(
            hub,
            options: DownloadRig.Fast(o => o.ParallelFiles = 1),
            hubOptions: new HubClientOptions { MaxAttempts = 3, RequestTimeout = TimeSpan.FromSeconds(1) },
            hubTime: clock);
        var largest = fixture.Repo.Files.MaxBy(f => f.Size)!;
        largest.Size.ShouldBeGreaterThan(2_000_000, "its body takes seconds at this rate");
        var partial = new FileInfo(rig.Cache(RepoId).IncompletePath(largest.Etag));

        var download = rig.DownloadAsync(RepoId);
        await Eventually.WaitUntilAsync(() => { partial.Refresh(); return partial.Exists && partial.Length > 0 || download.IsCompleted; }, Generous, "the largest body starts arriving");
        download.IsCompleted.ShouldBeFalse("the body is still arriving");
        clock.Advance(TimeSpan.FromSeconds(30)); // thirty request timeouts while the body streams
        await download.WaitAsync(Generous);

        Sha256(rig.Cache(RepoId).BlobPath(largest.Etag)).ShouldBe(largest.Etag);
        hub.Requests.Entries.Where(r => r.Listener == Listeners.Cdn).ShouldAllBe(r => !r.Aborted, "each file came in one request");
        hub.Requests.Entries.Count(r => r.Listener == Listeners.Cdn && r.Path == CdnPath(largest)).ShouldBe(1);
    }

    [Fact]
    public async Task Plan_GatedRepoWithoutToken_FailsAtOnceWithTheLicencePageAndATokenHint()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);

        var failure = await Should.ThrowAsync<HubGatedRepoException>(() => rig.Downloader.PlanAsync(FixtureCatalog.Gated.RepoId));

        failure.Message.ShouldContain($"accept its licence at {hub.BaseUrl}/{FixtureCatalog.Gated.RepoId}");
        failure.Message.ShouldContain("set a Hugging Face token (Settings page or HF_TOKEN)");
        hub.Requests.Entries.ShouldNotContain(r => r.Listener == Listeners.Cdn);
        Directory.Exists(rig.Cache(FixtureCatalog.Gated.RepoId).Folder).ShouldBeFalse("nothing written");
    }

    [Fact]
    public async Task Download_GatedRepoWithTheToken_Succeeds()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub, token: DownloadHubFixture.Token);

        await rig.DownloadAsync(FixtureCatalog.Gated.RepoId).WaitAsync(Generous);

        File.ReadAllText(Path.Combine(rig.Cache(FixtureCatalog.Gated.RepoId).Folder, "refs", "main")).ShouldBe(fixture.Gated.Commit);
        hub.Requests.Entries.Where(r => r.Listener == Listeners.Cdn).ShouldAllBe(r => !r.HadAuthorization);
    }

    [Fact]
    public async Task Download_NotEnoughDiskSpace_FailsBeforeAnyTransferWithAClearMessage()
    {
        await using var hub = await fixture.StartAsync();
        var space = new FixedDiskSpace(5_000_000);
        using var rig = new DownloadRig(hub, diskSpace: space);

        var failure = await Should.ThrowAsync<DownloadFailedException>(() => rig.DownloadAsync(RepoId));

        failure.Message.ShouldStartWith($"Not enough free disk space for {RepoId}: it needs 12.");
        failure.Message.ShouldContain("only 5 MB is free");
        space.AskedFor.ShouldNotBeNull().ShouldStartWith(rig.HubCache);
        hub.Requests.Entries.ShouldNotContain(r => r.Listener == Listeners.Cdn);
        hub.Requests.Entries.ShouldNotContain(r => r.Method == "GET" && r.Path.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Download_SpaceCheck_CountsOnlyTheBytesStillMissing()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        await rig.DownloadAsync(RepoId).WaitAsync(Generous);
        var shard = Shard(3);
        var blob = rig.Cache(RepoId).BlobPath(shard.Etag);
        File.Move(blob, blob + ".incomplete");
        using (var partial = new FileStream(blob + ".incomplete", FileMode.Open))
        {
            partial.SetLength(shard.Size - 1000);
        }

        using var tight = new DownloadRig(hub, diskSpace: new FixedDiskSpace(1500));
        Directory.Move(rig.HubCache, tight.HubCache);

        await tight.DownloadAsync(RepoId).WaitAsync(Generous);

        Sha256(tight.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
    }

    [Fact]
    public async Task Download_PartialFileFromAnEarlierRun_IsHashedThenResumedWithRange()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        var shard = Shard(1);
        var half = shard.Size / 2;
        var incomplete = rig.Cache(RepoId).IncompletePath(shard.Etag).CreateParent();
        await using (var source = File.OpenRead(fixture.SourceOf(shard.Path)))
        await using (var target = File.Create(incomplete))
        {
            await CopyAsync(source, target, half);
        }

        var (_, progress) = await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var transfer = hub.Requests.Entries.Single(r => r.Path == CdnPath(shard));
        transfer.Range.ShouldBe($"bytes={half}-");
        transfer.BytesSent.ShouldBe(shard.Size - half);
        progress.ReceivedBytes.ShouldBe(fixture.Repo.Files.Sum(f => f.Size) - half, "the partial bytes were not fetched again");
        Sha256(rig.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
    }

    [Fact]
    public async Task Download_PartialFileWithDamagedBytes_IsCaughtAfterResumingAndFetchedAgainWhole()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        var shard = Shard(2);
        var incomplete = rig.Cache(RepoId).IncompletePath(shard.Etag).CreateParent();
        await File.WriteAllBytesAsync(incomplete, new byte[1_000_000]);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        var transfers = await hub.Requests.WaitForCountAsync(r => r.Path == CdnPath(shard), 2);
        transfers.Select(t => t.Range).ShouldBe(["bytes=1000000-", null]);
        Sha256(rig.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
    }

    [Fact]
    public async Task Download_ServerAnswers200ToARangeRequest_StartsThatFileOver()
    {
        await using var hub = await fixture.StartAsync();
        var shard = Shard(3);
        var stripper = new RangeStripper(hub.CdnBaseUrl);
        using var rig = new DownloadRig(hub, wrap: inner => { stripper.InnerHandler = inner; return stripper; });
        var incomplete = rig.Cache(RepoId).IncompletePath(shard.Etag).CreateParent();
        await using (var source = File.OpenRead(fixture.SourceOf(shard.Path)))
        await using (var target = File.Create(incomplete))
        {
            await CopyAsync(source, target, 777_777);
        }

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        stripper.Stripped.ShouldContain("bytes=777777-");
        var transfer = hub.Requests.Entries.Single(r => r.Path == CdnPath(shard));
        transfer.Status.ShouldBe(200);
        transfer.BytesSent.ShouldBe(shard.Size);
        new FileInfo(rig.Cache(RepoId).BlobPath(shard.Etag)).Length.ShouldBe(shard.Size, "the old prefix was not kept in front of the new bytes");
        Sha256(rig.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
    }

    [Fact]
    public async Task Download_AgainWhenComplete_TransfersNothingAndKeepsTheLayout()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        await rig.DownloadAsync(RepoId).WaitAsync(Generous);
        hub.Requests.Clear();

        var (_, progress) = await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        progress.ReceivedBytes.ShouldBe(0);
        hub.Requests.Entries.ShouldNotContain(r => r.Listener == Listeners.Cdn);
        hub.Requests.Entries.ShouldNotContain(r => r.Method == "GET" && r.Path.Contains("/resolve/", StringComparison.Ordinal));
        File.ReadAllText(Path.Combine(rig.Cache(RepoId).Folder, "refs", "main")).ShouldBe(fixture.Repo.Commit);
    }

    [Fact]
    public async Task Download_Cancelled_StopsWithinTwoSeconds_AndRemovePartialsLeavesNothing()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        using var cancel = new CancellationTokenSource();
        var (plan, progress, running) = await StartSlowDownloadAsync(hub, rig, cancel.Token);
        await Eventually.WaitUntilAsync(() => progress.ReceivedBytes > 1_000_000, Generous, "bytes arrive");

        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => running);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));

        Directory.EnumerateFiles(rig.HubCache, "*.incomplete", SearchOption.AllDirectories).ShouldNotBeEmpty("partial files stay until removed");
        var removed = rig.Downloader.RemovePartials(RepoId, plan);

        removed.ShouldBeGreaterThan(1_000_000);
        Directory.Exists(rig.Cache(RepoId).Folder).ShouldBeFalse("nothing usable was left, so the repo folder went");
        Directory.Exists(rig.Cache(RepoId).LocksFolder).ShouldBeFalse();
    }

    [LinuxFact("/usr/bin/stat")]
    public async Task Download_Cancelled_KeepsEachPartialFilesBytes_ButGivesBackTheDiskReservedForTheRest()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        using var cancel = new CancellationTokenSource();
        var (_, _, running) = await StartSlowDownloadAsync(hub, rig, cancel.Token);
        var shard = Shard(1);
        var incomplete = rig.Cache(RepoId).IncompletePath(shard.Etag);
        await Eventually.WaitUntilAsync(() => File.Exists(incomplete) && new FileInfo(incomplete).Length > 100_000, Generous, "the shard's first bytes arrive");
        PartialBlobFileTests.AllocatedBytes(incomplete).ShouldBeGreaterThanOrEqualTo(shard.Size, "the whole shard is reserved while it downloads");

        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => running);

        var partials = Directory.EnumerateFiles(rig.HubCache, "*.incomplete", SearchOption.AllDirectories).ToList();
        partials.ShouldContain(incomplete);
        foreach (var partial in partials)
        {
            PartialBlobFileTests.AllocatedBytes(partial).ShouldBeLessThan(new FileInfo(partial).Length + 1024 * 1024, $"{partial} keeps only its bytes");
        }
    }

    [LinuxFact("/usr/bin/stat")]
    public async Task Download_AfterARunThatWasKilled_GivesBackItsReservationBeforeCheckingSpace_ThenResumes()
    {
        await using var hub = await fixture.StartAsync();
        var shard = Shard(2);
        var half = shard.Size / 2;
        long? allocatedWhenAsked = null;
        string? incomplete = null;
        var space = new CallbackDiskSpace(() =>
        {
            allocatedWhenAsked = PartialBlobFileTests.AllocatedBytes(incomplete!);
            return long.MaxValue;
        });
        using var rig = new DownloadRig(hub, diskSpace: space);
        incomplete = rig.Cache(RepoId).IncompletePath(shard.Etag).CreateParent();

        // As a process killed mid-transfer leaves it: half the bytes, the whole size still reserved.
        using (var handle = PartialBlobFile.Open(incomplete, shard.Size))
        {
            RandomAccess.Write(handle, (await File.ReadAllBytesAsync(fixture.SourceOf(shard.Path)))[..(int)half], 0);
        }

        PartialBlobFileTests.AllocatedBytes(incomplete).ShouldBeGreaterThanOrEqualTo(shard.Size);

        await rig.DownloadAsync(RepoId).WaitAsync(Generous);

        allocatedWhenAsked.ShouldNotBeNull();
        allocatedWhenAsked.Value.ShouldBeLessThan(half + 1024 * 1024, "free space is read after the left reservation is given back, so the missing half is not counted twice");
        hub.Requests.Entries.Single(r => r.Path == CdnPath(shard)).Range.ShouldBe($"bytes={half}-");
        Sha256(rig.Cache(RepoId).BlobPath(shard.Etag)).ShouldBe(shard.Etag);
    }

    [Fact]
    public async Task RemovePartials_KeepsAModelThatWasCompleteBefore()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub);
        var (plan, _) = await rig.DownloadAsync(RepoId).WaitAsync(Generous);
        var stray = rig.Cache(RepoId).IncompletePath(new string('a', 64));
        await File.WriteAllBytesAsync(stray, new byte[10]);
        var planWithStray = plan with { Files = [.. plan.Files, new PlannedFile("extra.safetensors", 100, new string('a', 64), true)] };

        rig.Downloader.RemovePartials(RepoId, planWithStray);

        File.Exists(stray).ShouldBeFalse();
        File.Exists(Path.Combine(rig.Cache(RepoId).Folder, "refs", "main")).ShouldBeTrue("a complete model is never removed by a cancel");
    }

    [Fact]
    public async Task Download_SeveralFilesAtOnce_UpToParallelFiles()
    {
        await using var hub = await fixture.StartAsync();
        using var rig = new DownloadRig(hub, options: DownloadRig.Fast(o => o.ParallelFiles = 2));
        hub.Faults.Throttle(null, perConnectionBytesPerSecond: 4_000_000);
        var plan = await rig.Downloader.PlanAsync(RepoId);
        var progress = new DownloadProgress();
        var most = 0;
        var running = rig.Downloader.DownloadAsync(plan, progress);
        while (!running.IsCompleted)
        {
            most = Math.Max(most, progress.Snapshot().ActiveFiles.Count);
            await Task.Delay(20);
        }

        await running;
        most.ShouldBe(2);
    }

    [Fact]
    public void LinkSnapshot_WithoutSymlinks_CopiesTheBlob()
    {
        var folder = Path.Combine(Path.GetTempPath(), "mlxm-copy-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new HfCacheRepo(folder, "org/name");
            cache.EnsureFolders();
            var etag = new string('b', 40);
            File.WriteAllText(cache.BlobPath(etag), "hello");

            cache.LinkSnapshot(new string('c', 40), "sub/file.txt", etag, useSymlinks: false);

            var copy = new FileInfo(cache.SnapshotPath(new string('c', 40), "sub/file.txt"));
            copy.LinkTarget.ShouldBeNull();
            File.ReadAllText(copy.FullName).ShouldBe("hello");
            cache.IsLinked(new string('c', 40), "sub/file.txt", etag, 5).ShouldBeTrue();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    public void SnapshotPath_RefusesPathsLeavingTheSnapshot(string path)
    {
        var cache = new HfCacheRepo(Path.GetTempPath(), "org/name");

        Should.Throw<DownloadFailedException>(() => cache.SnapshotPath(new string('c', 40), path));
    }

    [Fact]
    public void BlobLock_IsExclusiveUntilReleased()
    {
        var path = Path.Combine(Path.GetTempPath(), "mlxm-lock-" + Guid.NewGuid().ToString("N"), "x.lock");
        try
        {
            using (var first = BlobLock.TryAcquire(path).ShouldNotBeNull())
            {
                BlobLock.TryAcquire(path).ShouldBeNull();
            }

            using var again = BlobLock.TryAcquire(path).ShouldNotBeNull();
            File.Exists(path).ShouldBeTrue("the lock file stays, as huggingface_hub leaves it");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static async Task CopyAsync(Stream source, Stream target, long count)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)));
            await target.WriteAsync(buffer.AsMemory(0, read));
            count -= read;
        }
    }

    /// <summary>A volume with a fixed amount of free space.</summary>
    private sealed class FixedDiskSpace(long free) : IDiskSpace
    {
        public string? AskedFor { get; private set; }

        public long AvailableBytes(string path)
        {
            AskedFor = path;
            return free;
        }
    }

    /// <summary>Starts downloading the repo at 1 MB/s, slow enough for a test to cancel it midway.</summary>
    private async Task<(DownloadPlan Plan, DownloadProgress Progress, Task Running)> StartSlowDownloadAsync(HubEmulatorHost hub, DownloadRig rig, CancellationToken cancellationToken)
    {
        hub.Faults.Throttle(1_000_000);
        var plan = await rig.Downloader.PlanAsync(RepoId);
        var progress = new DownloadProgress();
        return (plan, progress, rig.Downloader.DownloadAsync(plan, progress, cancellationToken));
    }

    /// <summary>A volume whose free space is whatever <paramref name="free"/> answers when asked.</summary>
    private sealed class CallbackDiskSpace(Func<long> free) : IDiskSpace
    {
        public long AvailableBytes(string path) => free();
    }

    /// <summary>Drops the Range header of CDN requests, as a server that ignores ranges would answer: a 200 with the whole file.</summary>
    private sealed class RangeStripper(string cdnBaseUrl) : DelegatingHandler
    {
        public List<string> Stripped { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.ToString().StartsWith(cdnBaseUrl, StringComparison.Ordinal) && request.Headers.Range is { } range)
            {
                lock (Stripped)
                {
                    Stripped.Add(range.ToString());
                }

                request.Headers.Range = null;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
