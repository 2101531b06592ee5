using System.Text;

namespace MlxManager.Core.Discovery;

/// <summary>
/// A model repository on disk: an HF-cache snapshot (files are relative symlinks into <c>blobs/</c>, or copies)
/// or a plain folder. Sizes are those of the link targets; dangling links are listed with a null size.
/// </summary>
public sealed class FolderModelFileSource : IModelFileSource
{
    /// <summary>Text files larger than this are not read (no metadata file comes close).</summary>
    public const long MaxTextFileBytes = 64L * 1024 * 1024;

    private readonly string _root;

    public FolderModelFileSource(string directory, string? repoId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _root = Path.GetFullPath(directory);
        RepoId = repoId;
    }

    public string? RepoId { get; }

    public string Directory => _root;

    public ValueTask<IReadOnlyList<ModelFileEntry>> ListFilesAsync(CancellationToken cancellationToken = default)
    {
        var entries = new List<ModelFileEntry>();
        if (!System.IO.Directory.Exists(_root))
        {
            return ValueTask.FromResult<IReadOnlyList<ModelFileEntry>>(entries);
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = 0,
        };
        foreach (var path in System.IO.Directory.EnumerateFiles(_root, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/');
            entries.Add(new ModelFileEntry(relative, ResolvedLength(new FileInfo(path))));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return ValueTask.FromResult<IReadOnlyList<ModelFileEntry>>(entries);
    }

    public async ValueTask<string?> ReadTextAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = Resolve(path);
        if (full is null)
        {
            return null;
        }

        var length = ResolvedLength(new FileInfo(full));
        if (length is null)
        {
            return null;
        }

        if (length > MaxTextFileBytes)
        {
            throw new IOException($"{path} is {length} bytes, larger than the {MaxTextFileBytes} bytes read for metadata");
        }

        return await File.ReadAllTextAsync(full, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ReadOnlyMemory<byte>?> ReadPrefixAsync(string path, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var full = Resolve(path);
        if (full is null || ResolvedLength(new FileInfo(full)) is null)
        {
            return null;
        }

        await using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        var buffer = new byte[(int)Math.Min(maxBytes, stream.Length)];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return new ReadOnlyMemory<byte>(buffer, 0, read);
    }

    /// <summary>The size of a file, following symlinks; null when it is a dangling link or does not exist.</summary>
    internal static long? ResolvedLength(FileInfo file)
    {
        if (file.LinkTarget is null)
        {
            return file.Exists ? file.Length : null;
        }

        var target = file.ResolveLinkTarget(returnFinalTarget: true);
        return target is FileInfo { Exists: true } targetFile ? targetFile.Length : null;
    }

    private string? Resolve(string relativePath)
    {
        if (string.IsNullOrEmpty(relativePath) || Path.IsPathRooted(relativePath))
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(_root, relativePath));
        // A metadata name from a remote index must never escape the model folder.
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }

        return File.Exists(full) || new FileInfo(full).LinkTarget is not null ? full : null;
    }
}
