using System.Security.Cryptography;
using System.Text;

namespace MlxManager.ModelFixtures;

/// <summary>The identifiers the Hub gives files and commits: git blob sha1 for regular files, sha256 for
/// LFS files, and a stable commit id derived from the contents.</summary>
public static class GitObjects
{
    /// <summary>Files the Hub stores through LFS in MLX repos (weights, and anything over 10 MB).</summary>
    public static bool IsLfs(string path, long size) =>
        path.EndsWith(".safetensors", StringComparison.Ordinal)
        || path.EndsWith(".bin", StringComparison.Ordinal)
        || path.EndsWith(".gguf", StringComparison.Ordinal)
        || path.EndsWith(".npz", StringComparison.Ordinal)
        || size > 10 * 1024 * 1024;

    /// <summary>The git blob id: sha1 over <c>"blob {size}\0"</c> followed by the bytes.</summary>
    public static string GitBlobSha1(string file)
    {
        using var stream = File.OpenRead(file);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0) sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The etag the Hub reports for a file: sha256 for LFS files, git blob sha1 otherwise.</summary>
    public static string Etag(string file, string path) =>
        IsLfs(path, new FileInfo(file).Length) ? Sha256(file) : GitBlobSha1(file);

    /// <summary>A stable 40-hex commit id derived from every (path, etag) pair of a repo.</summary>
    public static string CommitId(IEnumerable<(string Path, string Etag)> files)
    {
        var text = new StringBuilder();
        foreach (var (path, etag) in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            text.Append(path).Append('\0').Append(etag).Append('\n');
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
