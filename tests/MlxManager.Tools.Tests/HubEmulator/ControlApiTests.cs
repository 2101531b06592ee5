using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary>The <c>/_emulator/…</c> endpoints that let a test in another process set faults and read the log.</summary>
public sealed class ControlApiTests : IClassFixture<HubEmulatorFixture>
{
    readonly HubEmulatorFixture hub;
    readonly HttpClient client;

    public ControlApiTests(HubEmulatorFixture hub)
    {
        this.hub = hub;
        client = hub.Client;
        hub.Reset();
    }

    string Control(string path) => $"{hub.Host.BaseUrl}/_emulator/{path}";

    [Fact]
    public async Task PostFaults_TakesEffectAndReadsBack()
    {
        var json = """
            {
              "throttleBytesPerSecond": 5000000,
              "failures": [{ "status": 429, "count": 1, "pathPrefix": "/api/models", "retryAfterSeconds": 2 }],
              "cuts": [{ "file": "model.safetensors", "afterBytes": 4096 }],
              "corruptions": [{ "file": "config.json", "offset": 3 }],
              "delays": [{ "milliseconds": 10, "count": 2 }]
            }
            """;

        var posted = await client.PostAsync(Control("faults"), new StringContent(json, Encoding.UTF8, "application/json"));
        var readBack = JsonNode.Parse(await client.GetStringAsync(Control("faults")))!;
        var search = await client.SendAsync(HttpMethod.Get, $"{hub.Host.BaseUrl}/api/models");

        posted.StatusCode.ShouldBe(HttpStatusCode.OK);
        readBack["throttleBytesPerSecond"]!.GetValue<long>().ShouldBe(5_000_000);
        readBack["failures"]![0]!["status"]!.GetValue<int>().ShouldBe(429);
        readBack["cuts"]![0]!["afterBytes"]!.GetValue<long>().ShouldBe(4096);
        readBack["cuts"]![0]!["times"]!.GetValue<int>().ShouldBe(1);
        readBack["corruptions"]![0]!["length"]!.GetValue<int>().ShouldBe(16);
        search.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        search.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(2));
        hub.Host.Faults.Current.Failures.ShouldBeEmpty("the one 429 was used up");
        hub.Host.Faults.Current.Delays.Single().Count.ShouldBe(1);
    }

    [Fact]
    public async Task PostFaults_Invalid_IsBadRequest()
    {
        var response = await client.PostAsync(Control("faults"), new StringContent("""{ "cuts": [{ "afterBytes": 1 }] }""", Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("error");
    }

    [Fact]
    public async Task Reset_ClearsFaultsAndTheLog()
    {
        hub.Host.Faults.FailNext(5, 500);
        await client.GetAsync($"{hub.Host.BaseUrl}/api/models");
        await hub.Host.Requests.WaitForAsync(r => r.Status == 500);

        var reset = await client.PostAsync(Control("reset"), null);
        var after = await client.GetAsync($"{hub.Host.BaseUrl}/api/models");

        reset.StatusCode.ShouldBe(HttpStatusCode.OK);
        after.StatusCode.ShouldBe(HttpStatusCode.OK);
        hub.Host.Faults.Current.Failures.ShouldBeEmpty();
        (await hub.Host.Requests.WaitForCountAsync(_ => true, 1)).Single().Status.ShouldBe(200);
    }

    [Fact]
    public async Task GetRequests_ListsWhatWasServedButNotControlCalls()
    {
        var spec = FixtureCatalog.LlamaTools;
        await client.SendAsync(HttpMethod.Head, $"{hub.Host.BaseUrl}/{spec.RepoId}/resolve/main/config.json");
        await hub.Host.Requests.WaitForCountAsync(_ => true, 1);
        await client.GetStringAsync(Control("faults"));

        var entries = await client.GetFromJsonAsync<JsonArray>(Control("requests"));

        entries!.Count.ShouldBe(1);
        entries[0]!["method"]!.GetValue<string>().ShouldBe("HEAD");
        entries[0]!["path"]!.GetValue<string>().ShouldBe($"/{spec.RepoId}/resolve/main/config.json");
        entries[0]!["status"]!.GetValue<int>().ShouldBe(200);
        entries[0]!["listener"]!.GetValue<string>().ShouldBe("hub");

        (await client.DeleteAsync(Control("requests"))).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        hub.Host.Requests.Entries.ShouldBeEmpty();
    }

    [Fact]
    public async Task RequestLog_HoldsEveryResponseTheClientHasReadInFull_WithoutWaiting()
    {
        // Tests read the log right after a response; the entry must not trail the last byte.
        var spec = FixtureCatalog.LlamaTools;
        var urls = new[] { $"{hub.Host.BaseUrl}/api/models?limit=3", $"{hub.Host.BaseUrl}/{spec.RepoId}/resolve/main/config.json" };
        for (var i = 0; i < 60; i++)
        {
            var url = urls[i % urls.Length];
            var body = await client.GetByteArrayAsync(url);

            var entries = hub.Host.Requests.Entries;
            entries.Count.ShouldBe(i + 1, $"request {i + 1} ({url}) is in the log as soon as its body has been read");
            entries[^1].Status.ShouldBe(200);
            entries[^1].BytesSent.ShouldBe(body.Length);
            entries[^1].Aborted.ShouldBeFalse();
        }
    }
}
