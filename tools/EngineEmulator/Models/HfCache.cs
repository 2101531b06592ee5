using System.Text.RegularExpressions;

namespace MlxManager.EngineEmulator.Models;

/// <summary>A repo found in the HF cache: its id, the snapshot <c>refs/main</c> points at, and the file names there.</summary>
public sealed record CachedRepo(string RepoId, string Folder, string? MainSnapshot, IReadOnlySet<string> MainFiles, DateTimeOffset LastModified);

/// <summary>The Hugging Face cache as huggingface_hub lays it out and the engines read it:
/// <c>$HF_HUB_CACHE/models--{org}--{name}/{blobs,snapshots/&lt;commit&gt;,refs/main}</c>.</summary>
public sealed partial class HfCache(string root)
{
    public string Root { get; } = root;

    /// <summary>HF_HUB_CACHE, else the legacy HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, HF_HOME defaulting to
    /// $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface (huggingface_hub.constants).</summary>
    public static HfCache FromEnvironment(Func<string, string?>? get = null)
    {
        get ??= Environment.GetEnvironmentVariable;
        static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
        var hfHome = NonEmpty(get("HF_HOME"))
            ?? Path.Combine(NonEmpty(get("XDG_CACHE_HOME")) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "huggingface");
        var root = NonEmpty(get("HF_HUB_CACHE")) ?? NonEmpty(get("HUGGINGFACE_HUB_CACHE")) ?? Path.Combine(hfHome, "hub");
        return new HfCache(ExpandHome(root));
    }

    static string ExpandHome(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;

    public static string FolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>The snapshot folder <c>refs/main</c> names, if the repo is cached and the snapshot exists.</summary>
    public string? MainSnapshot(string repoId)
    {
        var folder = Path.Combine(Root, FolderName(repoId));
        var refFile = Path.Combine(folder, "refs", "main");
        if (!File.Exists(refFile)) return null;
        var commit = File.ReadAllText(refFile).Trim();
        var snapshot = Path.Combine(folder, "snapshots", commit);
        return Directory.Exists(snapshot) ? snapshot : null;
    }

    /// <summary>Every model repo in the cache (what <c>huggingface_hub.scan_cache_dir()</c> reports).</summary>
    public IReadOnlyList<CachedRepo> Scan()
    {
        if (!Directory.Exists(Root)) return [];
        var repos = new List<CachedRepo>();
        foreach (var folder in Directory.EnumerateDirectories(Root, "models--*").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder)["models--".Length..];
            var separator = name.IndexOf("--", StringComparison.Ordinal);
            var repoId = separator < 0 ? name : name[..separator] + "/" + name[(separator + 2)..];
            var snapshot = MainSnapshot(repoId);
            var files = snapshot is null
                ? new HashSet<string>()
                : Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories).Select(Path.GetFileName).OfType<string>().ToHashSet();
            var blobs = Path.Combine(folder, "blobs");
            var lastModified = Directory.Exists(blobs)
                ? Directory.EnumerateFiles(blobs).Select(f => new DateTimeOffset(File.GetLastWriteTimeUtc(f), TimeSpan.Zero)).DefaultIfEmpty(DateTimeOffset.UnixEpoch).Max()
                : DateTimeOffset.UnixEpoch;
            repos.Add(new CachedRepo(repoId, folder, snapshot, files, lastModified));
        }
        return repos;
    }

    /// <summary>huggingface_hub's <c>validate_repo_id</c>: returns the error message, or null when valid.</summary>
    public static string? RepoIdProblem(string repoId)
    {
        if (repoId.Count(c => c == '/') > 1)
            return $"Repo id must be in the form 'repo_name' or 'namespace/repo_name': '{repoId}'. Use `repo_type` argument if needed.";
        if (!RepoIdPattern().IsMatch(repoId))
            return $"Repo id must use alphanumeric chars, '-', '_' or '.'. The name cannot start or end with '-' or '.' and the maximum length is 96: '{repoId}'.";
        if (repoId.Contains("--", StringComparison.Ordinal) || repoId.Contains("..", StringComparison.Ordinal))
            return $"Cannot have -- or .. in repo_id: '{repoId}'.";
        if (repoId.EndsWith(".git", StringComparison.Ordinal))
            return $"Repo_id cannot end by '.git': '{repoId}'.";
        return null;
    }

    [GeneratedRegex(@"^(\b[\w\-.]+\b/)?\b[\w\-.]{1,96}\b$")]
    private static partial Regex RepoIdPattern();
}
