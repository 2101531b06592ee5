using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using MlxManager.Core.Discovery;
using MlxManager.Core.Hub;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Core.Tests.Hub;

/// <summary>The Hub client against the in-process HubEmulator: real HTTP on loopback.</summary>
public sealed class HubClientTests(HubRootFixture root) : IClassFixture<HubRootFixture>
{
    private static int SearchRequests(HubEmulatorHost hub) =>
        hub.Requests.Entries.Count(r => r.Listener == Listeners.Hub && r.Path == "/api/models");

    [Fact]
    public async Task Search_ByDefault_FindsMlxModelsWithEveryTileFieldInOneRequest()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var page = await client.SearchAsync(new HubSearchQuery());

        page.Models.Count.ShouldBe(FixtureCatalog.Small.Count);
        page.Next.ShouldBeNull();
        SearchRequests(hub).ShouldBe(1);
        hub.Requests.Entries.Count.ShouldBe(1, "no call per result");
        var request = hub.Requests.Entries.Single();
        request.Query.ShouldContain("filter=mlx");
        foreach (var field in new[] { "downloads", "likes", "lastModified", "tags", "pipeline_tag", "gated", "sha", "safetensors", "usedStorage" })
        {
            request.Query.ShouldContain($"expand={field}");
        }

        var qwen = page.Models.Single(m => m.Id == FixtureCatalog.QwenThinking.RepoId);
        qwen.Author.ShouldBe("mlx-community");
        qwen.Downloads.ShouldBe(FixtureCatalog.QwenThinking.Hub.Downloads);
        qwen.Likes.ShouldBe(FixtureCatalog.QwenThinking.Hub.Likes);
        qwen.Sha.ShouldBe(hub.CommitOf(qwen.Id));
        qwen.LastModified.ShouldBe(FixtureCatalog.QwenThinking.Hub.LastModified);
        qwen.Tags.ShouldContain("qwen3");
        qwen.UsedStorage.ShouldNotBeNull().ShouldBeGreaterThan(0);
        qwen.SafetensorsParameters.ShouldNotBeNull().ShouldNotBeEmpty();
        page.Models.Single(m => m.Id == FixtureCatalog.Gated.RepoId).IsGated.ShouldBeTrue();
        page.Models.Select(m => m.Downloads).ShouldBeInOrder(SortDirection.Descending);
    }

    [Theory]
    [InlineData(HubSort.Likes)]
    [InlineData(HubSort.RecentlyUpdated)]
    [InlineData(HubSort.Trending)]
    public async Task Search_WithSort_OrdersDescending(HubSort sort)
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var page = await client.SearchAsync(new HubSearchQuery(Sort: sort));

        var keys = sort switch
        {
            HubSort.Likes => page.Models.Select(m => (double)m.Likes),
            HubSort.RecentlyUpdated => page.Models.Select(m => (double)m.LastModified!.Value.ToUnixTimeSeconds()),
            _ => page.Models.Select(m => m.TrendingScore),
        };
        keys.ShouldBeInOrder(SortDirection.Descending);
        hub.Requests.Entries.Single().Query.ShouldContain(sort switch
        {
            HubSort.Likes => "sort=likes",
            HubSort.RecentlyUpdated => "sort=lastModified",
            _ => "sort=trendingScore",
        });
    }

    [Fact]
    public async Task Search_WithText_FindsMatchingIds()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var page = await client.SearchAsync(new HubSearchQuery(Search: "qwen"));

        page.Models.Select(m => m.Id).ShouldBe(
            FixtureCatalog.Small.Where(s => s.RepoId.Contains("qwen", StringComparison.OrdinalIgnoreCase)).Select(s => s.RepoId),
            ignoreOrder: true);
    }

    [Fact]
    public async Task Search_LoadMore_FollowsLinkHeaderOneRequestPerPage()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var first = await client.SearchAsync(new HubSearchQuery(Limit: 4));
        var second = await client.SearchNextAsync(first.Next.ShouldNotBeNull());
        var third = await client.SearchNextAsync(HubSearchContinuation.Decode(second.Next.ShouldNotBeNull().Encode()).ShouldNotBeNull());

        first.Models.Count.ShouldBe(4);
        second.Models.Count.ShouldBe(4);
        third.Models.Count.ShouldBe(1);
        third.Next.ShouldBeNull();
        first.Models.Concat(second.Models).Concat(third.Models).Select(m => m.Id).Distinct().Count().ShouldBe(FixtureCatalog.Small.Count);
        SearchRequests(hub).ShouldBe(3);
        hub.Requests.Entries.Count.ShouldBe(3);
    }

    [Fact]
    public async Task Search_WithAuthors_AsksEachAuthorOnceAndMergesInSortOrder()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var page = await client.SearchAsync(new HubSearchQuery(Authors: ["mlx-community", "meta-llama"]));

        page.Models.ShouldNotContain(m => m.Author == "acme-research");
        page.Models.ShouldContain(m => m.Author == "meta-llama");
        page.Models.Count(m => m.Author == "mlx-community").ShouldBe(FixtureCatalog.Small.Count(s => s.Org == "mlx-community"));
        page.Models.Select(m => m.Downloads).ShouldBeInOrder(SortDirection.Descending);
        SearchRequests(hub).ShouldBe(2);
    }

    [Fact]
    public async Task SearchNext_WithUrlOffTheHub_IsRefusedWithoutARequest()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var error = await Should.ThrowAsync<HubException>(() =>
            client.SearchNextAsync(new HubSearchContinuation(HubSort.Downloads, [new Uri("http://169.254.169.254/latest/meta-data")])));

        error.Kind.ShouldBe(HubErrorKind.BadResponse);
        hub.Requests.Entries.ShouldBeEmpty();
    }

    [Fact]
    public async Task GetModel_ReturnsCommitFilesAndSafetensorsFacts()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.LlamaTools);

        var model = await client.GetModelAsync(repo.Spec.RepoId, blobs: true);
        var atCommit = await client.GetModelAsync(repo.Spec.RepoId, revision: repo.Commit);

        model.Sha.ShouldBe(repo.Commit);
        atCommit.Sha.ShouldBe(repo.Commit);
        model.Siblings.Select(s => s.Path).ShouldBe(repo.Files.Select(f => f.Path), ignoreOrder: true);
        model.Siblings.Single(s => s.Path == "config.json").Size.ShouldBe(repo.Files.Single(f => f.Path == "config.json").Size);
        model.Siblings.Single(s => s.Path == "model.safetensors").LfsSha256.ShouldBe(repo.Files.Single(f => f.Path == "model.safetensors").Etag);
        model.SafetensorsTotal.ShouldNotBeNull().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task GetModel_UnknownRevision_ThrowsRevisionNotFound()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);

        var error = await Should.ThrowAsync<HubRevisionNotFoundException>(() => client.GetModelAsync(FixtureCatalog.LlamaTools.RepoId, revision: "no-such-branch"));

        error.Revision.ShouldBe("no-such-branch");
        error.ErrorCode.ShouldBe("RevisionNotFound");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(HubRootFixture.Token)]
    public async Task GetModel_MissingRepo_ThrowsRepoNotFound(string? token)
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl, token);

        var error = await Should.ThrowAsync<HubRepoNotFoundException>(() => client.GetModelAsync("mlx-community/does-not-exist"));

        error.Kind.ShouldBe(HubErrorKind.RepoNotFound);
        error.RepoId.ShouldBe("mlx-community/does-not-exist");
        error.Message.ShouldContain("does not exist");
    }

    [Fact]
    public async Task GetTree_FollowsEveryPage()
    {
        await using var hub = await root.StartAsync(o => o with { TreePageSize = 2 });
        var client = HubRootFixture.Client(hub.BaseUrl);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.GemmaVision);

        var tree = await client.GetTreeAsync(repo.Spec.RepoId, repo.Commit);

        var files = tree.Where(e => !e.IsDirectory).ToList();
        files.Select(f => f.Path).ShouldBe(repo.Files.Select(f => f.Path), ignoreOrder: true);
        foreach (var file in repo.Files)
        {
            var entry = files.Single(f => f.Path == file.Path);
            entry.Size.ShouldBe(file.Size);
            entry.Etag.ShouldBe(file.Etag);
        }

        var pages = hub.Requests.Entries.Count(r => r.Path.Contains("/tree/", StringComparison.Ordinal));
        pages.ShouldBe((tree.Count + 1) / 2);
    }

    [Fact]
    public async Task GetFileMetadata_SmallAndLfsFiles_ReadsCommitEtagSizeAndCdnLocationWithoutFollowingIt()
    {
        await using var hub = await root.StartAsync(o => o with { WeakEtags = true });
        var client = HubRootFixture.Client(hub.BaseUrl, HubRootFixture.Token);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.QwenThinking);
        var config = repo.Files.Single(f => f.Path == "config.json");
        var weights = repo.Files.Single(f => f.Path == "model.safetensors");

        var small = await client.GetFileMetadataAsync(repo.Spec.RepoId, "config.json");
        var lfs = await client.GetFileMetadataAsync(repo.Spec.RepoId, "model.safetensors");

        small.Commit.ShouldBe(repo.Commit);
        small.Etag.ShouldBe(config.Etag);
        small.Size.ShouldBe(config.Size);
        small.IsLfs.ShouldBeFalse();
        lfs.Commit.ShouldBe(repo.Commit);
        lfs.Etag.ShouldBe(weights.Etag);
        lfs.Size.ShouldBe(weights.Size);
        lfs.Location.ShouldNotBeNull().Port.ShouldBe(hub.CdnPort);
        hub.Requests.Entries.ShouldAllBe(r => r.Listener == Listeners.Hub && r.Method == "HEAD");
    }

    [Fact]
    public async Task GetFileMetadata_MissingFile_ThrowsEntryNotFoundWithTheCommit()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.QwenThinking);

        var error = await Should.ThrowAsync<HubEntryNotFoundException>(() => client.GetFileMetadataAsync(repo.Spec.RepoId, "chat_template.jinja"));

        error.Commit.ShouldBe(repo.Commit);
        error.Path.ShouldBe("chat_template.jinja");
    }

    [Fact]
    public async Task GetFileMetadata_RenamedRepo_FollowsTheRelativeRedirect()
    {
        await using var hub = await root.StartAsync(o => o with { RenamedRepos = new Dictionary<string, string> { ["old-org/old-name"] = FixtureCatalog.Phi8Bit.RepoId } });
        var client = HubRootFixture.Client(hub.BaseUrl);

        var metadata = await client.GetFileMetadataAsync("old-org/old-name", "config.json");

        metadata.Commit.ShouldBe(hub.CommitOf(FixtureCatalog.Phi8Bit.RepoId));
        metadata.ResolvedUrl.AbsolutePath.ShouldContain(FixtureCatalog.Phi8Bit.RepoId);
    }

    [Fact]
    public async Task ReadText_GatedRepoWithoutToken_ThrowsGatedWithTheModelPage()
    {
        await using var hub = await root.StartAsync();
        var anonymous = HubRootFixture.Client(hub.BaseUrl);
        var withToken = HubRootFixture.Client(hub.BaseUrl, HubRootFixture.Token);

        var error = await Should.ThrowAsync<HubGatedRepoException>(() => anonymous.ReadTextAsync(FixtureCatalog.Gated.RepoId, "config.json"));
        var text = await withToken.ReadTextAsync(FixtureCatalog.Gated.RepoId, "config.json");

        error.ModelPageUrl.ShouldBe($"{hub.BaseUrl}/{FixtureCatalog.Gated.RepoId}");
        error.Message.ShouldContain("accept its licence");
        text.ShouldContain("\"model_type\"");
    }

    [Fact]
    public async Task ReadPrefix_LfsFile_SendsTheTokenToTheHubButNeverToTheCdn()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl, HubRootFixture.Token);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.QwenThinking);

        var lengthBytes = await client.ReadPrefixAsync(repo.Spec.RepoId, "model.safetensors", 8);
        var headerLength = SafetensorsHeader.ReadHeaderLength(lengthBytes).ShouldNotBeNull();
        var header = await client.ReadPrefixAsync(repo.Spec.RepoId, "model.safetensors", (int)(8 + headerLength));

        lengthBytes.Length.ShouldBe(8);
        SafetensorsHeader.Parse(header).Tensors.ShouldNotBeEmpty();
        var cdn = hub.Requests.Entries.Where(r => r.Listener == Listeners.Cdn).ToList();
        cdn.Count.ShouldBe(2);
        cdn.ShouldAllBe(r => !r.HadAuthorization && r.Status == 206);
        cdn[0].Range.ShouldBe("bytes=0-7");
        hub.Requests.Entries.Where(r => r.Listener == Listeners.Hub).ShouldAllBe(r => r.HadAuthorization);
    }

    [Fact]
    public async Task ReadText_FileAboveTheCap_FailsAfterReadingOneBytePastIt()
    {
        await using var hub = await root.StartAsync();
        var options = HubRootFixture.FastRetries();
        options.MaxMetadataFileBytes = 100;
        var client = HubRootFixture.Client(hub.BaseUrl, options: options);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.QwenThinking);
        repo.Files.Single(f => f.Path == "tokenizer_config.json").Size.ShouldBeGreaterThan(100);

        var error = await Should.ThrowAsync<HubException>(() => client.ReadTextAsync(repo.Spec.RepoId, "tokenizer_config.json"));

        error.Kind.ShouldBe(HubErrorKind.BadResponse);
        error.Message.ShouldContain("larger than 100 bytes");
        hub.Requests.Entries.Count(r => r.Path.EndsWith("tokenizer_config.json", StringComparison.Ordinal)).ShouldBe(1, "not retried");
    }

    [Fact]
    public async Task ReadPrefix_ServerIgnoringRange_ReadsOnlyTheBytesAskedFor()
    {
        await using var hub = await root.StartAsync();
        hub.Faults.IgnoreRange();
        hub.Faults.Throttle(null, perConnectionBytesPerSecond: 500_000); // the whole file cannot be on its way already
        var client = HubRootFixture.Client(hub.BaseUrl);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.Phi8Bit);
        var weights = repo.Files.Single(f => f.Path == "model.safetensors");
        var expected = await File.ReadAllBytesAsync(Path.Combine(repo.Folder, "model.safetensors"));

        var prefix = await client.ReadPrefixAsync(repo.Spec.RepoId, "model.safetensors", 8);

        prefix.ShouldBe(expected[..8]);
        var transfer = await hub.Requests.WaitForAsync(r => r.Listener == Listeners.Cdn && r.Fault == "ignore-range");
        transfer.Status.ShouldBe(200);
        transfer.BytesSent.ShouldBeLessThan(weights.Size, "the client dropped the connection after the bytes it wanted");
    }

    [Fact]
    public async Task OpenFile_FromAnOffset_ResumesWithARangeAndReportsTheTotal()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.Phi8Bit);
        var weights = repo.Files.Single(f => f.Path == "model.safetensors");
        var expected = await File.ReadAllBytesAsync(Path.Combine(repo.Folder, "model.safetensors"));

        await using var file = await client.OpenFileAsync(repo.Spec.RepoId, "model.safetensors", from: 1000);
        using var copy = new MemoryStream();
        await file.Content.CopyToAsync(copy);

        file.IsPartial.ShouldBeTrue();
        file.Offset.ShouldBe(1000);
        file.TotalLength.ShouldBe(weights.Size);
        file.Etag.ShouldBe(weights.Etag);
        file.Commit.ShouldBe(repo.Commit);
        file.ContentUrl.Port.ShouldBe(hub.CdnPort);
        copy.ToArray().ShouldBe(expected[1000..]);
        Convert.ToHexStringLower(SHA256.HashData(expected)).ShouldBe(weights.Etag);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Search_BurstOfFailures_IsRetriedUntilItSucceeds(int status)
    {
        await using var hub = await root.StartAsync();
        hub.Faults.FailNext(2, status, "/api/models", retryAfterSeconds: status == 429 ? 0 : null);
        var client = HubRootFixture.Client(hub.BaseUrl);

        var page = await client.SearchAsync(new HubSearchQuery());

        page.Models.ShouldNotBeEmpty();
        var requests = hub.Requests.Entries.Where(r => r.Path == "/api/models").Select(r => r.Status).ToList();
        requests.ShouldBe([status, status, 200]);
    }

    [Fact]
    public async Task Search_FailingMoreThanTheRetryLimit_ThrowsServerError()
    {
        await using var hub = await root.StartAsync();
        hub.Faults.FailNext(10, 502, "/api/models");
        var client = HubRootFixture.Client(hub.BaseUrl);

        var error = await Should.ThrowAsync<HubException>(() => client.SearchAsync(new HubSearchQuery()));

        error.Kind.ShouldBe(HubErrorKind.ServerError);
        error.Status.ShouldBe(HttpStatusCode.BadGateway);
        hub.Requests.Entries.Count.ShouldBe(HubRootFixture.FastRetries().MaxAttempts);
    }

    [Fact]
    public async Task Search_SlowFirstAnswer_TimesOutAndRetries()
    {
        await using var hub = await root.StartAsync();
        hub.Faults.DelayFirstByte(TimeSpan.FromSeconds(3), "/api/models", count: 1);
        var options = HubRootFixture.FastRetries();
        options.RequestTimeout = TimeSpan.FromMilliseconds(600);
        var client = HubRootFixture.Client(hub.BaseUrl, options: options);

        var page = await client.SearchAsync(new HubSearchQuery());

        page.Models.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task ReadText_ConnectionCutMidBody_IsReadAgain()
    {
        await using var hub = await root.StartAsync();
        hub.Faults.CutConnection("tokenizer_config.json", afterBytes: 100, repo: FixtureCatalog.QwenThinking.RepoId);
        var client = HubRootFixture.Client(hub.BaseUrl);
        var repo = root.Repos.Single(r => r.Spec == FixtureCatalog.QwenThinking);

        var text = await client.ReadTextAsync(repo.Spec.RepoId, "tokenizer_config.json");

        text.ShouldBe(await File.ReadAllTextAsync(Path.Combine(repo.Folder, "tokenizer_config.json")));
        // The emulator logs a request when its response ends, which can be a moment after the client has the text.
        (await hub.Requests.WaitForCountAsync(r => r.Path.EndsWith("tokenizer_config.json", StringComparison.Ordinal), 2)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Search_HubDown_ThrowsUnreachableNamingTheEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var client = HubRootFixture.Client($"http://127.0.0.1:{port}");

        var error = await Should.ThrowAsync<HubUnreachableException>(() => client.SearchAsync(new HubSearchQuery()));

        error.Kind.ShouldBe(HubErrorKind.Unreachable);
        error.Message.ShouldContain($"http://127.0.0.1:{port}");
        error.Message.ShouldContain("tried 4 times");
    }

    [Fact]
    public async Task EveryCall_Offline_ThrowsOfflineWithoutARequest()
    {
        await using var hub = await root.StartAsync();
        var client = HubRootFixture.Client(hub.BaseUrl, offline: true);

        (await Should.ThrowAsync<HubOfflineException>(() => client.SearchAsync(new HubSearchQuery()))).Kind.ShouldBe(HubErrorKind.Offline);
        await Should.ThrowAsync<HubOfflineException>(() => client.GetModelAsync(FixtureCatalog.Phi8Bit.RepoId));
        await Should.ThrowAsync<HubOfflineException>(() => client.GetTreeAsync(FixtureCatalog.Phi8Bit.RepoId));
        await Should.ThrowAsync<HubOfflineException>(() => client.GetFileMetadataAsync(FixtureCatalog.Phi8Bit.RepoId, "config.json"));
        await Should.ThrowAsync<HubOfflineException>(() => client.ReadTextAsync(FixtureCatalog.Phi8Bit.RepoId, "config.json"));

        hub.Requests.Entries.ShouldBeEmpty();
    }

    [Fact]
    public async Task StoredToken_WinsOverTheEnvironmentToken()
    {
        await using var hub = await root.StartAsync(o => o with { RejectUnknownTokens = true });
        var client = HubRootFixture.Client(hub.BaseUrl, token: "hf_wrong_environment_token", stored: new FixedToken(HubRootFixture.Token));

        var text = await client.ReadTextAsync(FixtureCatalog.Gated.RepoId, "config.json");
        var connection = await client.GetConnectionAsync();

        text.ShouldNotBeEmpty();
        connection.TokenSource.ShouldBe("stored on the Settings page");
    }

    [Theory]
    [InlineData("W/\"abc123\"", "abc123")]
    [InlineData("\"abc123\"", "abc123")]
    [InlineData("abc123", "abc123")]
    [InlineData("  ", null)]
    public void CleanEtag_StripsWeakMarkerAndQuotes(string raw, string? expected) =>
        HubClient.CleanEtag(raw).ShouldBe(expected);

    private sealed class FixedToken(string token) : IStoredHubToken
    {
        public ValueTask<string?> GetAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(token);
    }
}
