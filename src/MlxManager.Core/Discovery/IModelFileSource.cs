namespace MlxManager.Core.Discovery;

/// <summary>
/// The files of one model repository at one revision, as detection sees them: a local snapshot folder
/// (<see cref="FolderModelFileSource"/>) or contents fetched from the Hub (<see cref="InMemoryModelFileSource"/>).
/// Paths are relative to the repository root and use '/' as separator.
/// </summary>
public interface IModelFileSource
{
    /// <summary>The repository id (<c>org/name</c>) when known; used only for labelled name-based hints.</summary>
    string? RepoId { get; }

    /// <summary>Every file of the repository with its size in bytes (null when the size is unknown).</summary>
    ValueTask<IReadOnlyList<ModelFileEntry>> ListFilesAsync(CancellationToken cancellationToken = default);

    /// <summary>The UTF-8 text of a file, or null when the file is absent or its content was not obtained.</summary>
    ValueTask<string?> ReadTextAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="maxBytes"/> bytes from the start of a file (fewer when the file, or what the source
    /// holds of it, is shorter), or null when the source cannot provide any.
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>?> ReadPrefixAsync(string path, int maxBytes, CancellationToken cancellationToken = default);
}

/// <summary>One file of a model repository.</summary>
/// <param name="Path">Path relative to the repository root, '/'-separated.</param>
/// <param name="Size">Size in bytes, or null when unknown.</param>
public sealed record ModelFileEntry(string Path, long? Size);
