using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using MlxManager.ModelFixtures;

namespace MlxManager.HubEmulator;

/// <summary>A file of a repo as found on disk.</summary>
internal sealed record RepoFileEntry(string Path, string FullPath, long Size, bool IsLfs, DateTime LastWriteUtc);

/// <summary>The identifiers the Hub gives a file: <see cref="Etag"/> is the sha256 for LFS files and the git blob
/// sha1 otherwise; <see cref="BlobId"/> is the git object id (of the LFS pointer for LFS files).</summary>
internal sealed record FileIdentity(string Etag, string BlobId, int? PointerSize);

/// <summary>Commit id and per-file identifiers of one repo state.</summary>
internal sealed record RepoIdentity(string Commit, IReadOnlyDictionary<string, FileIdentity> Files);

/// <summary>Parameter counts per dtype read from the safetensors headers, as the Hub's <c>safetensors</c> field.</summary>
internal sealed record SafetensorsSummary(IReadOnlyDictionary<string, long> Parameters, long Total);

/// <summary>One repo of the root in its current state. Hashes and parsed metadata are computed on first use.</summary>
internal sealed class HubRepo
{
    readonly Lazy<RepoIdentity> identity;
    readonly Lazy<SafetensorsSummary?> safetensors;
    readonly Lazy<JsonObject?> config;

    public HubRepo(string id, string folder, string signature, HubFacts facts, bool isPrivate, IReadOnlyList<string> renamedFrom,
        IReadOnlyList<RepoFileEntry> files, Func<HubRepo, RepoIdentity> computeIdentity, ILogger logger)
    {
        Id = id;
        Folder = folder;
        Signature = signature;
        Facts = facts;
        Private = isPrivate;
        RenamedFrom = renamedFrom;
        Files = files;
        identity = new Lazy<RepoIdentity>(() => computeIdentity(this), LazyThreadSafetyMode.ExecutionAndPublication);
        safetensors = new Lazy<SafetensorsSummary?>(() => RepoMetadata.ReadSafetensors(this, logger), LazyThreadSafetyMode.ExecutionAndPublication);
        config = new Lazy<JsonObject?>(() => RepoMetadata.ReadConfig(this, logger), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Id { get; }
    public string Org => Id[..Id.IndexOf('/')];
    public string Folder { get; }
    public string Signature { get; }
    public HubFacts Facts { get; }
    public bool Private { get; }
    public IReadOnlyList<string> RenamedFrom { get; }
    public IReadOnlyList<RepoFileEntry> Files { get; }
    public RepoIdentity Identity => identity.Value;
    public SafetensorsSummary? Safetensors => safetensors.Value;
    public JsonObject? Config => config.Value;
    public long UsedStorage => Files.Sum(f => f.Size);

    /// <summary>The Hub's <c>_id</c>: a stable 24-hex object id.</summary>
    public string ObjectId => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(Id)))[..24];

    public RepoFileEntry? File(string path) => Files.FirstOrDefault(f => f.Path == path);

    /// <summary>Whether <paramref name="revision"/> names this repo state: the branch <c>main</c> (also as
    /// <c>refs/heads/main</c> or <c>HEAD</c>, which huggingface.js sends by default) or the commit id.</summary>
    public bool HasRevision(string revision) =>
        revision is "main" or "refs/heads/main" or "HEAD" || revision.Equals(Identity.Commit, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The repos under a root folder (<c>&lt;root&gt;/&lt;org&gt;/&lt;name&gt;/</c>), re-read when files change so
/// tests can add or rewrite repos while the emulator runs. File hashes are cached by path, size and write time.</summary>
internal sealed partial class RepoCatalog
{
    readonly string root;
    readonly IReadOnlyDictionary<string, string> renamedRepos;
    readonly ILogger logger;
    readonly ConcurrentDictionary<string, HubRepo> repos = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, (long Size, DateTime Written, FileIdentity Identity)> hashes = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, (string RepoId, string Path)> blobs = new(StringComparer.Ordinal);

    public RepoCatalog(string root, IReadOnlyDictionary<string, string> renamedRepos, ILogger logger)
    {
        this.root = Path.GetFullPath(root);
        this.renamedRepos = renamedRepos;
        this.logger = logger;
    }

    public string Root => root;

    /// <summary>Every repo of the root, ordered by id.</summary>
    public IReadOnlyList<HubRepo> All()
    {
        if (!Directory.Exists(root)) return [];
        var found = new List<HubRepo>();
        foreach (var orgFolder in Directory.EnumerateDirectories(root))
        {
            var org = System.IO.Path.GetFileName(orgFolder);
            if (org.StartsWith('.')) continue;
            foreach (var repoFolder in Directory.EnumerateDirectories(orgFolder))
            {
                var name = System.IO.Path.GetFileName(repoFolder);
                if (name.StartsWith('.')) continue;
                if (Load($"{org}/{name}") is { } repo) found.Add(repo);
            }
        }
        return [.. found.OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>The repo with exactly this id, or null.</summary>
    public HubRepo? Find(string repoId) => IsValidId(repoId) ? Load(repoId) : null;

    /// <summary>The current id of a renamed repo (from the options or a sidecar's <c>renamedFrom</c>), or null.</summary>
    public string? RenamedTo(string oldId)
    {
        var configured = renamedRepos.FirstOrDefault(p => p.Key.Equals(oldId, StringComparison.OrdinalIgnoreCase));
        if (configured.Value is not null) return configured.Value;
        return All().FirstOrDefault(r => r.RenamedFrom.Contains(oldId, StringComparer.OrdinalIgnoreCase))?.Id;
    }

    /// <summary>The repo and file whose LFS content has this sha256, or null.</summary>
    public (HubRepo Repo, RepoFileEntry File)? FindBlob(string sha256)
    {
        if (Lookup(sha256) is { } hit) return hit;
        foreach (var repo in All()) _ = repo.Identity;
        return Lookup(sha256);
    }

    (HubRepo, RepoFileEntry)? Lookup(string sha256)
    {
        if (!blobs.TryGetValue(sha256, out var at)) return null;
        var repo = Find(at.RepoId);
        var file = repo?.File(at.Path);
        if (repo is null || file is null || repo.Identity.Files[file.Path].Etag != sha256) return null;
        return (repo, file);
    }

    static bool IsValidId(string repoId)
    {
        var parts = repoId.Split('/');
        return parts.Length == 2 && parts.All(p => p.Length > 0 && p != "." && p != ".." && !p.StartsWith('.')
            && p.IndexOfAny(['\\', '\0']) < 0);
    }

    HubRepo? Load(string repoId)
    {
        var folder = System.IO.Path.Combine(root, repoId.Replace('/', System.IO.Path.DirectorySeparatorChar));
        if (!Directory.Exists(folder)) return null;
        List<RepoFileEntry> files;
        try
        {
            files = ReadFiles(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRepoUnreadable(logger, repoId, e.Message);
            return null;
        }
        if (files.Count == 0) return null;

        var sidecar = System.IO.Path.Combine(folder, HubFactsFile.Name);
        var sidecarStamp = System.IO.File.Exists(sidecar) ? System.IO.File.GetLastWriteTimeUtc(sidecar).Ticks : 0;
        var signature = string.Join('\n', files.Select(f => $"{f.Path}\0{f.Size}\0{f.LastWriteUtc.Ticks}")) + $"\n{sidecarStamp}";
        if (repos.TryGetValue(repoId, out var cached) && cached.Signature == signature) return cached;

        var (facts, isPrivate, renamedFrom) = ReadSidecar(folder, repoId);
        var repo = new HubRepo(repoId, folder, signature, facts, isPrivate, renamedFrom, files, ComputeIdentity, logger);
        repos[repoId] = repo;
        return repo;
    }

    static List<RepoFileEntry> ReadFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(full => (Full: full, Rel: System.IO.Path.GetRelativePath(folder, full).Replace('\\', '/')))
            .Where(f => f.Rel != HubFactsFile.Name)
            .Select(f =>
            {
                var info = new FileInfo(f.Full);
                return new RepoFileEntry(f.Rel, f.Full, info.Length, GitObjects.IsLfs(f.Rel, info.Length), info.LastWriteTimeUtc);
            })
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();

    (HubFacts Facts, bool Private, IReadOnlyList<string> RenamedFrom) ReadSidecar(string folder, string repoId)
    {
        var path = System.IO.Path.Combine(folder, HubFactsFile.Name);
        if (!System.IO.File.Exists(path)) return (new HubFacts(), false, []);
        try
        {
            var facts = HubFactsFile.Read(folder);
            // Keys the fixtures' record does not know: read them from the same file.
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(path));
            bool isPrivate = doc.RootElement.TryGetProperty("private", out var p) && p.ValueKind == JsonValueKind.True;
            var renamed = new List<string>();
            if (doc.RootElement.TryGetProperty("renamedFrom", out var r))
            {
                if (r.ValueKind == JsonValueKind.String) renamed.Add(r.GetString()!);
                else if (r.ValueKind == JsonValueKind.Array) renamed.AddRange(r.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
            }
            return (facts, isPrivate, renamed);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            LogSidecarUnreadable(logger, repoId, e.Message);
            return (new HubFacts(), false, []);
        }
    }

    RepoIdentity ComputeIdentity(HubRepo repo)
    {
        var identities = new Dictionary<string, FileIdentity>(StringComparer.Ordinal);
        foreach (var file in repo.Files)
        {
            FileIdentity identity;
            if (hashes.TryGetValue(file.FullPath, out var known) && known.Size == file.Size && known.Written == file.LastWriteUtc)
                identity = known.Identity;
            else
            {
                identity = Hash(file);
                hashes[file.FullPath] = (file.Size, file.LastWriteUtc, identity);
            }
            identities[file.Path] = identity;
            if (file.IsLfs) blobs[identity.Etag] = (repo.Id, file.Path);
        }
        var commit = GitObjects.CommitId(repo.Files.Select(f => (f.Path, identities[f.Path].Etag)));
        return new RepoIdentity(commit, identities);
    }

    static FileIdentity Hash(RepoFileEntry file)
    {
        if (!file.IsLfs)
        {
            var blob = GitObjects.GitBlobSha1(file.FullPath);
            return new FileIdentity(blob, blob, null);
        }
        var sha256 = GitObjects.Sha256(file.FullPath);
        var pointer = Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {file.Size}\n");
        var header = Encoding.ASCII.GetBytes($"blob {pointer.Length}\0");
        var pointerBlob = Convert.ToHexStringLower(SHA1.HashData([.. header, .. pointer]));
        return new FileIdentity(sha256, pointerBlob, pointer.Length);
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Repo {RepoId} cannot be read: {Reason}")]
    static partial void LogRepoUnreadable(ILogger logger, string repoId, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Sidecar of {RepoId} is not valid JSON, serving default facts: {Reason}")]
    static partial void LogSidecarUnreadable(ILogger logger, string repoId, string reason);
}
