using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using Microsoft.Extensions.Time.Testing;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary>A root holding the small fixture catalogue and an emulator serving it, shared by the tests of one class.
/// Each test class resets faults and the request log in its constructor.</summary>
public sealed class HubEmulatorFixture : IAsyncLifetime
{
    public const string Token = "hf_emulator_test_token";

    public string Root { get; } = Directory.CreateTempSubdirectory("hubemu-").FullName;
    public IReadOnlyDictionary<string, WrittenRepo> Repos { get; private set; } = new Dictionary<string, WrittenRepo>();
    public HubEmulatorHost Host { get; private set; } = null!;
    public HttpClient Client { get; } = Http.NewClient();

    public async Task InitializeAsync()
    {
        Repos = HubRootWriter.WriteAll(Root, FixtureCatalog.Small).ToDictionary(r => r.Spec.RepoId);
        Host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = Root, Token = Token });
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    public WrittenRepo Repo(FixtureSpec spec) => Repos[spec.RepoId];

    /// <summary>Starts another emulator on the same root with changed options; the caller disposes it.</summary>
    public Task<HubEmulatorHost> StartAnotherAsync(Func<HubEmulatorOptions, HubEmulatorOptions> change) =>
        HubEmulatorHost.StartAsync(change(new HubEmulatorOptions { Root = Root, Token = Token }));

    public void Reset()
    {
        Host.Faults.Reset();
        Host.Requests.Clear();
    }
}

/// <summary>What a client of the Hub does over plain HTTP, kept small so the tests read like the protocol.</summary>
internal static class Http
{
    /// <summary>A client that, like huggingface_hub's metadata call, does not follow redirects by itself.</summary>
    public static HttpClient NewClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static HttpRequestMessage Request(HttpMethod method, string url, string? token = null, string? range = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        request.Headers.AcceptEncoding.ParseAdd("identity");
        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, string? token = null, string? range = null)
    {
        using var request = Request(method, url, token, range);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public static async Task<(HttpResponseMessage Response, JsonNode Body)> GetJsonAsync(this HttpClient client, string url, string? token = null)
    {
        var response = await client.SendAsync(HttpMethod.Get, url, token);
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonNode.Parse(text)!);
    }

    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First()
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.First()
        : null;

    /// <summary>The <c>rel="next"</c> URL of a <c>Link</c> header, or null on the last page.</summary>
    public static string? NextLink(this HttpResponseMessage response)
    {
        var link = response.Header("Link");
        if (link is null) return null;
        foreach (var part in link.Split(','))
        {
            var pieces = part.Split(';', StringSplitOptions.TrimEntries);
            if (pieces.Skip(1).Any(p => p.Replace(" ", "") == "rel=\"next\""))
                return pieces[0].Trim('<', '>');
        }
        return null;
    }

    /// <summary>Follows <c>Link: rel="next"</c> from <paramref name="url"/> to the end; returns every page.</summary>
    public static async Task<List<JsonArray>> GetAllPagesAsync(this HttpClient client, string url, string? token = null)
    {
        var pages = new List<JsonArray>();
        string? next = url;
        while (next is not null)
        {
            var (response, body) = await client.GetJsonAsync(next, token);
            response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            pages.Add(body.AsArray());
            next = response.NextLink();
            pages.Count.ShouldBeLessThan(1000, "pagination does not end");
        }
        return pages;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static List<string> Ids(this JsonArray items) => items.Select(i => i!["id"]!.GetValue<string>()).ToList();

    public static HashSet<string> Keys(this JsonNode node) => node.AsObject().Select(p => p.Key).ToHashSet();

    public static string Quoted(string etag) => $"\"{etag}\"";

    public static JsonElement Element(this JsonNode node) => JsonSerializer.SerializeToElement(node);
}
