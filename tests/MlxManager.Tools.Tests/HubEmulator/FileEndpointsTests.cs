using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary><c>HEAD</c>/<c>GET {EP}/{id}/resolve/{rev}/{path}</c> and the CDN it redirects to, per hf-hub.md's
/// download section: headers, redirects, ranges, signatures, gating and error codes.</summary>
public sealed class FileEndpointsTests : IClassFixture<HubEmulatorFixture>
{
    readonly HubEmulatorFixture hub;
    readonly HttpClient client;

    public FileEndpointsTests(HubEmulatorFixture hub)
    {
        this.hub = hub;
        client = hub.Client;
        hub.Reset();
    }

    string Resolve(FixtureSpec spec, string path, string revision = "main") => $"{hub.Host.BaseUrl}/{spec.RepoId}/resolve/{revision}/{path}";

    static RepoFile FileOf(WrittenRepo repo, string path) => repo.Files.Single(f => f.Path == path);

    byte[] Bytes(WrittenRepo repo, string path) => File.ReadAllBytes(Path.Combine(repo.Folder, path));

    async Task<string> CdnUrlAsync(FixtureSpec spec, string path, string? token = null)
    {
        var head = await client.SendAsync(HttpMethod.Head, Resolve(spec, path), token);
        head.StatusCode.ShouldBe(HttpStatusCode.Found);
        return head.Headers.Location!.ToString();
    }

    [Fact]
    public async Task Head_SmallFile_AnswersCommitGitBlobEtagAndSize()
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);
        var config = FileOf(repo, "config.json");

        var head = await client.SendAsync(HttpMethod.Head, Resolve(repo.Spec, "config.json"));

        head.StatusCode.ShouldBe(HttpStatusCode.OK);
        head.Header("X-Repo-Commit").ShouldBe(repo.Commit);
        head.Header("X-Repo-Commit").ShouldBe(GitObjects.CommitId(repo.Files.Select(f => (f.Path, f.Etag))));
        head.Headers.ETag!.Tag.ShouldBe(Http.Quoted(config.Etag));
        config.Etag.ShouldBe(GitObjects.GitBlobSha1(Path.Combine(repo.Folder, "config.json")));
        head.Content.Headers.ContentLength.ShouldBe(config.Size);
        head.Headers.AcceptRanges.ShouldContain("bytes");
        head.Header("X-Linked-Etag").ShouldBeNull();
        head.Header("X-Linked-Size").ShouldBeNull();
        head.Headers.Location.ShouldBeNull();
    }

    [Fact]
    public async Task Head_LfsFile_RedirectsAbsolutelyToAnotherHostWithLinkedEtagAndSize()
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);
        var weights = FileOf(repo, "model.safetensors");

        var head = await client.SendAsync(HttpMethod.Head, Resolve(repo.Spec, "model.safetensors"));

        head.StatusCode.ShouldBe(HttpStatusCode.Found);
        var location = head.Headers.Location!;
        location.IsAbsoluteUri.ShouldBeTrue();
        location.Authority.ShouldNotBe(new Uri(hub.Host.BaseUrl).Authority, "the CDN must be a different host than the Hub");
        location.ToString().ShouldStartWith(hub.Host.CdnBaseUrl + "/");
        head.Header("X-Repo-Commit").ShouldBe(repo.Commit);
        head.Header("X-Linked-Etag").ShouldBe(Http.Quoted(weights.Etag));
        head.Header("X-Linked-Size").ShouldBe(weights.Size.ToString());
        weights.Etag.ShouldBe(GitObjects.Sha256(Path.Combine(repo.Folder, "model.safetensors")));
        head.Headers.ETag!.Tag.ShouldBe(Http.Quoted(weights.Etag));
        head.Content.Headers.ContentLength.ShouldNotBe(weights.Size, "a client must read the size from X-Linked-Size on a redirect");
    }

    [Fact]
    public async Task Resolve_OnlyLfsFilesRedirect()
    {
        var repo = hub.Repo(FixtureCatalog.GemmaVision);

        foreach (var file in repo.Files)
        {
            var head = await client.SendAsync(HttpMethod.Head, Resolve(repo.Spec, file.Path));
            head.StatusCode.ShouldBe(file.IsLfs ? HttpStatusCode.Found : HttpStatusCode.OK, file.Path);
        }
    }

    [Fact]
    public async Task Get_SmallFile_IsServedDirectlyByteForByte()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);

        var response = await client.SendAsync(HttpMethod.Get, Resolve(repo.Spec, "tokenizer_config.json"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).ShouldBe(Bytes(repo, "tokenizer_config.json"));
        response.Header("X-Repo-Commit").ShouldBe(repo.Commit);
    }

    [Fact]
    public async Task Get_SmallFileWithRange_Is206WithContentRange()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var bytes = Bytes(repo, "tokenizer_config.json");

        var response = await client.SendAsync(HttpMethod.Get, Resolve(repo.Spec, "tokenizer_config.json"), range: "bytes=10-29");

        response.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        response.Content.Headers.ContentRange!.ToString().ShouldBe($"bytes 10-29/{bytes.Length}");
        (await response.Content.ReadAsByteArrayAsync()).ShouldBe(bytes[10..30]);
    }

    [Fact]
    public async Task Cdn_WithoutRange_Is200WithTheWholeFileMatchingTheEtag()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var weights = FileOf(repo, "model.safetensors");

        var response = await client.SendAsync(HttpMethod.Get, await CdnUrlAsync(repo.Spec, "model.safetensors"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.ShouldBe(weights.Size);
        response.Headers.AcceptRanges.ShouldContain("bytes");
        var body = await response.Content.ReadAsByteArrayAsync();
        body.ShouldBe(Bytes(repo, "model.safetensors"));
        Http.Sha256(body).ShouldBe(weights.Etag);
    }

    [Fact]
    public async Task Cdn_WithOpenRange_Is206FromThatByte()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var bytes = Bytes(repo, "model.safetensors");
        long from = bytes.Length / 3;

        var response = await client.SendAsync(HttpMethod.Get, await CdnUrlAsync(repo.Spec, "model.safetensors"), range: $"bytes={from}-");

        response.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        response.Content.Headers.ContentRange!.ToString().ShouldBe($"bytes {from}-{bytes.Length - 1}/{bytes.Length}");
        response.Content.Headers.ContentLength.ShouldBe(bytes.Length - from);
        (await response.Content.ReadAsByteArrayAsync()).ShouldBe(bytes[(int)from..]);
    }

    [Fact]
    public async Task Cdn_WithSuffixRange_ServesTheLastBytes()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var bytes = Bytes(repo, "model.safetensors");

        var response = await client.SendAsync(HttpMethod.Get, await CdnUrlAsync(repo.Spec, "model.safetensors"), range: "bytes=-100");

        response.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        (await response.Content.ReadAsByteArrayAsync()).ShouldBe(bytes[^100..]);
    }

    [Fact]
    public async Task Cdn_RangeBeyondTheEnd_Is416WithTheSize()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var weights = FileOf(repo, "model.safetensors");

        var response = await client.SendAsync(HttpMethod.Get, await CdnUrlAsync(repo.Spec, "model.safetensors"), range: $"bytes={weights.Size}-");

        response.StatusCode.ShouldBe(HttpStatusCode.RequestedRangeNotSatisfiable);
        response.Content.Headers.ContentRange!.ToString().ShouldBe($"bytes */{weights.Size}");
    }

    [Fact]
    public async Task Cdn_AfterTheUrlExpires_Is403AndAFreshUrlWorks()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var host = await hub.StartAnotherAsync(o => o with { TimeProvider = clock, CdnUrlLifetime = TimeSpan.FromMinutes(10) });
        var url = $"{host.BaseUrl}/{FixtureCatalog.Phi8Bit.RepoId}/resolve/main/model.safetensors";
        var stale = (await client.SendAsync(HttpMethod.Head, url)).Headers.Location!;

        (await client.SendAsync(HttpMethod.Get, stale.ToString(), range: "bytes=0-9")).StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        clock.Advance(TimeSpan.FromMinutes(11));
        var expired = await client.SendAsync(HttpMethod.Get, stale.ToString(), range: "bytes=0-9");
        var fresh = (await client.SendAsync(HttpMethod.Head, url)).Headers.Location!;
        var again = await client.SendAsync(HttpMethod.Get, fresh.ToString(), range: "bytes=0-9");

        expired.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await expired.Content.ReadAsStringAsync()).ShouldContain("expired");
        fresh.ShouldNotBe(stale);
        again.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
    }

    [Fact]
    public async Task Cdn_WithTamperedSignature_Is403()
    {
        var url = await CdnUrlAsync(FixtureCatalog.Phi8Bit, "model.safetensors");
        var tampered = url.Replace("Expires=", "Expires=9");

        (await client.SendAsync(HttpMethod.Get, tampered)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Cdn_GivenTheHubToken_RefusesIt()
    {
        var url = await CdnUrlAsync(FixtureCatalog.Phi8Bit, "model.safetensors");

        var response = await client.SendAsync(HttpMethod.Get, url, HubEmulatorFixture.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var logged = await hub.Host.Requests.WaitForAsync(r => r.Listener == Listeners.Cdn);
        logged.HadAuthorization.ShouldBeTrue();
    }

    [Fact]
    public async Task Cdn_IsNotServedOnTheHubPort_NorTheHubOnTheCdnPort()
    {
        var cdn = new Uri(await CdnUrlAsync(FixtureCatalog.Phi8Bit, "model.safetensors"));

        (await client.SendAsync(HttpMethod.Get, hub.Host.BaseUrl + cdn.PathAndQuery)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.SendAsync(HttpMethod.Get, hub.Host.CdnBaseUrl + "/api/models")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Gated_WithoutToken_Is401GatedRepo()
    {
        var response = await client.SendAsync(HttpMethod.Get, Resolve(FixtureCatalog.Gated, "config.json"));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Header("X-Error-Code").ShouldBe("GatedRepo");
        response.Header("X-Error-Message")!.ShouldContain(FixtureCatalog.Gated.RepoId);
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldContain("restricted");
    }

    [Fact]
    public async Task Gated_WithAnotherToken_Is403GatedRepo()
    {
        var response = await client.SendAsync(HttpMethod.Head, Resolve(FixtureCatalog.Gated, "model.safetensors"), "hf_someone_else");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        response.Header("X-Error-Code").ShouldBe("GatedRepo");
    }

    [Fact]
    public async Task Gated_WithTheToken_DownloadsAndTheCdnNeedsNoToken()
    {
        var repo = hub.Repo(FixtureCatalog.Gated);

        var config = await client.SendAsync(HttpMethod.Get, Resolve(repo.Spec, "config.json"), HubEmulatorFixture.Token);
        var cdnUrl = await CdnUrlAsync(repo.Spec, "model.safetensors", HubEmulatorFixture.Token);
        var weights = await client.SendAsync(HttpMethod.Get, cdnUrl);

        config.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await config.Content.ReadAsByteArrayAsync()).ShouldBe(Bytes(repo, "config.json"));
        weights.StatusCode.ShouldBe(HttpStatusCode.OK);
        Http.Sha256(await weights.Content.ReadAsByteArrayAsync()).ShouldBe(FileOf(repo, "model.safetensors").Etag);
        var cdnRequest = await hub.Host.Requests.WaitForAsync(r => r.Listener == Listeners.Cdn && r.Status == 200);
        cdnRequest.HadAuthorization.ShouldBeFalse();
    }

    [Fact]
    public async Task MissingRepo_IsRepoNotFound()
    {
        var anonymous = await client.SendAsync(HttpMethod.Head, $"{hub.Host.BaseUrl}/mlx-community/Nope-4bit/resolve/main/config.json");
        var signedIn = await client.SendAsync(HttpMethod.Head, $"{hub.Host.BaseUrl}/mlx-community/Nope-4bit/resolve/main/config.json", HubEmulatorFixture.Token);

        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        anonymous.Header("X-Error-Code").ShouldBe("RepoNotFound");
        signedIn.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        signedIn.Header("X-Error-Code").ShouldBe("RepoNotFound");
    }

    [Fact]
    public async Task UnknownRevision_IsRevisionNotFound()
    {
        var response = await client.SendAsync(HttpMethod.Head, Resolve(FixtureCatalog.LlamaTools, "config.json", "0123456789012345678901234567890123456789"));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Header("X-Error-Code").ShouldBe("RevisionNotFound");
    }

    [Fact]
    public async Task MissingFile_IsEntryNotFoundWithTheCommit()
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);

        var response = await client.SendAsync(HttpMethod.Get, Resolve(repo.Spec, "preprocessor_config.json"));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Header("X-Error-Code").ShouldBe("EntryNotFound");
        response.Header("X-Repo-Commit").ShouldBe(repo.Commit, "huggingface_hub records .no_exist/<commit>/<path> from it");
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Resolve_AtTheCommit_ServesTheSameFile()
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);

        var head = await client.SendAsync(HttpMethod.Head, Resolve(repo.Spec, "model.safetensors", repo.Commit));

        head.StatusCode.ShouldBe(HttpStatusCode.Found);
        head.Header("X-Repo-Commit").ShouldBe(repo.Commit);
    }

    [Fact]
    public async Task RenamedRepo_RedirectsRelativelyToTheNewId()
    {
        var spec = FixtureCatalog.LlamaTools;
        await using var host = await hub.StartAnotherAsync(o => o with { RenamedRepos = new Dictionary<string, string> { ["old-org/Old-Name"] = spec.RepoId } });

        var resolve = await client.SendAsync(HttpMethod.Head, $"{host.BaseUrl}/old-org/Old-Name/resolve/main/config.json");
        var info = await client.SendAsync(HttpMethod.Get, $"{host.BaseUrl}/api/models/old-org/Old-Name?blobs=true");

        resolve.StatusCode.ShouldBe(HttpStatusCode.TemporaryRedirect);
        resolve.Headers.Location!.IsAbsoluteUri.ShouldBeFalse();
        resolve.Headers.Location.ToString().ShouldBe($"/{spec.RepoId}/resolve/main/config.json");
        info.StatusCode.ShouldBe(HttpStatusCode.TemporaryRedirect);
        info.Headers.Location!.ToString().ShouldBe($"/api/models/{spec.RepoId}?blobs=true");
        var followed = await client.SendAsync(HttpMethod.Head, new Uri(new Uri(host.BaseUrl), resolve.Headers.Location).ToString());
        followed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RenamedRepo_FromTheSidecar_Redirects()
    {
        var root = Directory.CreateTempSubdirectory("hubemu-renamed-").FullName;
        try
        {
            var written = HubRootWriter.Write(root, FixtureCatalog.Phi8Bit with { RepoId = "new-org/Current-Name" });
            var sidecar = Path.Combine(written.Folder, HubFactsFile.Name);
            var facts = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
            facts["renamedFrom"] = "old-org/Previous-Name";
            File.WriteAllText(sidecar, facts.ToJsonString());
            await using var host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = root });

            var head = await client.SendAsync(HttpMethod.Head, $"{host.BaseUrl}/old-org/Previous-Name/resolve/main/config.json");

            head.StatusCode.ShouldBe(HttpStatusCode.TemporaryRedirect);
            head.Headers.Location!.ToString().ShouldBe("/new-org/Current-Name/resolve/main/config.json");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task PrivateRepo_IsInvisibleWithoutTheToken()
    {
        var root = Directory.CreateTempSubdirectory("hubemu-private-").FullName;
        try
        {
            var written = HubRootWriter.Write(root, FixtureCatalog.Phi8Bit with { RepoId = "team/Secret-Model" });
            var sidecar = Path.Combine(written.Folder, HubFactsFile.Name);
            var facts = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
            facts["private"] = true;
            File.WriteAllText(sidecar, facts.ToJsonString());
            await using var host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = root, Token = HubEmulatorFixture.Token });

            var anonymousSearch = (await client.GetJsonAsync($"{host.BaseUrl}/api/models?search=secret")).Body.AsArray();
            var anonymousFile = await client.SendAsync(HttpMethod.Head, $"{host.BaseUrl}/team/Secret-Model/resolve/main/config.json");
            var grantedSearch = (await client.GetJsonAsync($"{host.BaseUrl}/api/models?search=secret", HubEmulatorFixture.Token)).Body.AsArray();
            var grantedFile = await client.SendAsync(HttpMethod.Head, $"{host.BaseUrl}/team/Secret-Model/resolve/main/config.json", HubEmulatorFixture.Token);

            anonymousSearch.Count.ShouldBe(0);
            anonymousFile.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            anonymousFile.Header("X-Error-Code").ShouldBe("RepoNotFound");
            grantedSearch.Ids().ShouldBe(["team/Secret-Model"]);
            grantedSearch[0]!["private"]!.GetValue<bool>().ShouldBeTrue();
            grantedFile.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task WeakEtags_AreSentInTheWForm()
    {
        await using var host = await hub.StartAnotherAsync(o => o with { WeakEtags = true });
        var config = FileOf(hub.Repo(FixtureCatalog.LlamaTools), "config.json");

        var head = await client.SendAsync(HttpMethod.Head, $"{host.BaseUrl}/{FixtureCatalog.LlamaTools.RepoId}/resolve/main/config.json");

        head.Headers.ETag!.IsWeak.ShouldBeTrue();
        head.Headers.ETag.Tag.ShouldBe(Http.Quoted(config.Etag));
    }

    [Fact]
    public async Task UnknownToken_WhenRejected_Is401InvalidCredentials()
    {
        await using var host = await hub.StartAnotherAsync(o => o with { RejectUnknownTokens = true });

        var stale = await client.SendAsync(HttpMethod.Get, $"{host.BaseUrl}/api/models", "hf_expired");
        var good = await client.SendAsync(HttpMethod.Get, $"{host.BaseUrl}/api/models", HubEmulatorFixture.Token);

        stale.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        stale.Header("X-Error-Message").ShouldBe("Invalid credentials in Authorization header");
        good.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
