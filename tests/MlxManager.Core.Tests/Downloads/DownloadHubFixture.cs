using Microsoft.Extensions.Options;
using MlxManager.Core.Downloads;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Core.Tests.Downloads;

/// <summary>
/// A HubEmulator root with a three-shard model (plus files in nested folders, to check the relative links) and the
/// gated fixture, written once; each test starts its own emulator on it and downloads into its own temp cache.
/// </summary>
public sealed class DownloadHubFixture : IDisposable
{
    public const string Token = "hf_download_token_5555";

    /// <summary>Three shards of ~4 MB, with two small files in subfolders added to the repo.</summary>
    public static readonly FixtureSpec Sharded = FixtureCatalog.Sized(
        FixtureCatalog.QwenThinking with { RepoId = "mlx-community/Qwen3-Sharded-Test-4bit" }, 12 * 1024 * 1024, 3);

    public DownloadHubFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "mlxm-downloads-hub-" + Guid.NewGuid().ToString("N"));
        var written = HubRootWriter.Write(Root, Sharded);
        File.WriteAllText(Path.Combine(written.Folder, "additional_chat_templates", "tool_use.jinja").CreateParent(), "{{ tools | tojson }}\n");
        File.WriteAllText(Path.Combine(written.Folder, "deep", "er", "notes.txt").CreateParent(), "nested two levels\n");
        Repo = RepoWriter.Describe(written.Folder, Sharded);
        Gated = HubRootWriter.Write(Root, FixtureCatalog.Gated);
    }

    public string Root { get; }

    /// <summary>The sharded repo as the Hub serves it: every file with its ETag, and the commit.</summary>
    public WrittenRepo Repo { get; }

    public WrittenRepo Gated { get; }

    public Task<HubEmulatorHost> StartAsync(Func<HubEmulatorOptions, HubEmulatorOptions>? configure = null)
    {
        var options = new HubEmulatorOptions { Root = Root, Token = Token };
        return HubEmulatorHost.StartAsync(configure?.Invoke(options) ?? options);
    }

    /// <summary>The files of the repo in the emulator's root, for comparing bytes.</summary>
    public string SourceOf(string path) => Path.Combine(Repo.Folder, path);

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

/// <summary>A downloader wired to an emulator and a fresh temp HF cache, with fast retries.</summary>
public sealed class DownloadRig : IDisposable
{
    public DownloadRig(HubEmulatorHost hub, string? token = null, DownloadOptions? options = null, IDiskSpace? diskSpace = null, Func<HttpMessageHandler, HttpMessageHandler>? wrap = null, HubClientOptions? hubOptions = null, TimeProvider? hubTime = null)
    {
        Folder = Path.Combine(Path.GetTempPath(), "mlxm-downloads-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        var variables = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = hub.BaseUrl,
            ["HF_HOME"] = Path.Combine(Folder, "hf-home"),
            ["HF_HUB_CACHE"] = Path.Combine(Folder, "hub"),
            ["HF_TOKEN"] = token,
        };
        Environment = HfEnvironment.Resolve(name => variables.GetValueOrDefault(name), Folder);
        HubOptions = hubOptions ?? new HubClientOptions
        {
            MaxAttempts = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        Hub = new HubClient(new HttpClient(HubResilience.CreateHandler(HubOptions, hubTime, wrapPrimary: wrap)) { Timeout = Timeout.InfiniteTimeSpan }, new HubConnectionSource(Environment), HubOptions);
        Options = options ?? Fast();
        Manifests = new FileRepoManifestStore(Path.Combine(Folder, "manifests"));
        Downloader = new ModelDownloader(Hub, Environment, diskSpace ?? new VolumeDiskSpace(), Manifests, Microsoft.Extensions.Options.Options.Create(Options));
    }

    public string Folder { get; }

    public HfEnvironment Environment { get; }

    public HubClient Hub { get; }

    public HubClientOptions HubOptions { get; }

    public DownloadOptions Options { get; }

    public FileRepoManifestStore Manifests { get; }

    public ModelDownloader Downloader { get; }

    public string HubCache => Environment.HubCache;

    public static DownloadOptions Fast(Action<DownloadOptions>? change = null)
    {
        var options = new DownloadOptions
        {
            ParallelFiles = 4,
            MaxRetries = 4,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(200),
            StallTimeout = TimeSpan.FromSeconds(10),
        };
        change?.Invoke(options);
        return options;
    }

    /// <summary>Plans and downloads <paramref name="repoId"/>; returns the plan and the progress counters.</summary>
    public async Task<(DownloadPlan Plan, DownloadProgress Progress)> DownloadAsync(string repoId, CancellationToken cancellationToken = default)
    {
        var plan = await Downloader.PlanAsync(repoId, cancellationToken: cancellationToken);
        var progress = new DownloadProgress();
        await Downloader.DownloadAsync(plan, progress, cancellationToken);
        return (plan, progress);
    }

    public HfCacheRepo Cache(string repoId) => new(HubCache, repoId);

    public void Dispose()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}

internal static class PathExtensions
{
    /// <summary>Creates the parent folder of a file path and returns the path.</summary>
    public static string CreateParent(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
