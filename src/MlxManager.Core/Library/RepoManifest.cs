using System.Text.Json;

namespace MlxManager.Core.Library;

/// <summary>The file tree of one commit as the Hub listed it (written by whoever downloads the commit).</summary>
public sealed record RepoManifest(string RepoId, string Commit, IReadOnlyList<RepoManifestFile> Files);

public sealed record RepoManifestFile(string Path, long Size);

/// <summary>Where the library looks up the recorded tree of a commit to decide completeness exactly.</summary>
public interface IRepoManifestStore
{
    RepoManifest? Find(string repoId, string commit);
}

/// <summary>No recorded trees: every model is judged by the foreign-download rule.</summary>
public sealed class NoRepoManifests : IRepoManifestStore
{
    public static readonly NoRepoManifests Instance = new();

    public RepoManifest? Find(string repoId, string commit) => null;
}

/// <summary>
/// Manifests as JSON files <c>{directory}/models--org--name/{commit}.json</c>, kept outside the HF cache so the
/// Python tools never see them. <see cref="Save"/> writes to a temporary file and renames it into place.
/// </summary>
public sealed class FileRepoManifestStore : IRepoManifestStore
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = false };
    private readonly string _directory;

    public FileRepoManifestStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _directory = directory;
    }

    public RepoManifest? Find(string repoId, string commit)
    {
        var path = PathOf(repoId, commit);
        if (path is null || !File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<RepoManifest>(File.ReadAllText(path), Options);
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"manifest {path} is not valid: {exception.Message}", exception);
        }
    }

    public void Save(RepoManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var path = PathOf(manifest.RepoId, manifest.Commit) ?? throw new ArgumentException("invalid repo id or commit", nameof(manifest));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(manifest, Options));
        File.Move(temporary, path, overwrite: true);
    }

    private string? PathOf(string repoId, string commit)
    {
        if (!HfCacheNames.IsPlausibleRepoId(repoId) || string.IsNullOrEmpty(commit) || !commit.All(char.IsAsciiLetterOrDigit))
        {
            return null;
        }

        return Path.Combine(_directory, HfCacheNames.ModelFolderName(repoId), commit + ".json");
    }
}
