using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary>The ~210 MB three-shard fixture downloaded the way a client does it: HEAD for the metadata, GET on the
/// CDN, a broken connection in the middle of a shard, a resume from the last byte received, hashes checked.</summary>
public sealed class LargeDownloadTests(ITestOutputHelper output) : IAsyncLifetime
{
    readonly string root = Directory.CreateTempSubdirectory("hubemu-large-").FullName;
    readonly HttpClient client = Http.NewClient();
    WrittenRepo repo = null!;
    HubEmulatorHost host = null!;

    public async Task InitializeAsync()
    {
        repo = HubRootWriter.Write(root, FixtureCatalog.Large);
        host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = root });
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await host.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task Download_EveryShard_WithACutInTheMiddle_ResumesAndMatchesTheEtags()
    {
        var shards = repo.Files.Where(f => f.IsLfs).ToList();
        shards.Count.ShouldBe(3);
        var broken = shards[1];
        long cutAt = broken.Size / 2 + 12_345;
        host.Faults.CutConnection(broken.Path, cutAt);
        long total = 0;
        var watch = Stopwatch.StartNew();

        foreach (var shard in shards)
        {
            var url = $"{host.BaseUrl}/{repo.Spec.RepoId}/resolve/main/{shard.Path}";
            var head = await client.SendAsync(HttpMethod.Head, url);
            head.StatusCode.ShouldBe(HttpStatusCode.Found);
            var etag = head.Header("X-Linked-Etag")!.Trim('"');
            long size = long.Parse(head.Header("X-Linked-Size")!);
            head.Header("X-Repo-Commit").ShouldBe(repo.Commit);

            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long have = 0;
            for (int attempt = 0; have < size; attempt++)
            {
                attempt.ShouldBeLessThan(3);
                // A fresh signed URL before each attempt, as hf-hub.md says.
                var location = (await client.SendAsync(HttpMethod.Head, url)).Headers.Location!.ToString();
                var response = await client.SendAsync(HttpMethod.Get, location, range: have > 0 ? $"bytes={have}-" : null);
                response.StatusCode.ShouldBe(have > 0 ? HttpStatusCode.PartialContent : HttpStatusCode.OK);
                have += await HashBodyAsync(response, sha);
            }

            have.ShouldBe(size);
            Convert.ToHexStringLower(sha.GetHashAndReset()).ShouldBe(etag);
            etag.ShouldBe(shard.Etag);
            total += have;
        }
        watch.Stop();

        total.ShouldBe(repo.WeightBytes);
        // An entry is logged when its response ends, which can be just after the client read the last byte.
        var gets = (await host.Requests.WaitForCountAsync(r => r.Listener == Listeners.Cdn, 4)).OrderBy(r => r.Sequence).ToList();
        gets.Count.ShouldBe(4);
        gets[1].Aborted.ShouldBeTrue();
        gets[1].BytesSent.ShouldBe(cutAt);
        gets[2].Range.ShouldBe($"bytes={cutAt}-", "the resume starts at the byte where the cut happened, not at zero");
        output.WriteLine($"{total / 1e6:F0} MB in {watch.Elapsed.TotalSeconds:F1} s ({total / 1e6 / watch.Elapsed.TotalSeconds:F0} MB/s, hashing included)");
    }

    /// <summary>Feeds the body to the hash until it ends or breaks; returns the bytes received.</summary>
    static async Task<long> HashBodyAsync(HttpResponseMessage response, IncrementalHash sha)
    {
        var buffer = new byte[1 << 20];
        long received = 0;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                received += read;
            }
        }
        catch (IOException)
        {
            // The injected cut: keep what arrived and resume from there.
        }
        return received;
    }
}
