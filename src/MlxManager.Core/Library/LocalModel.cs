using System.Text.Json.Serialization;

namespace MlxManager.Core.Library;

[JsonConverter(typeof(JsonStringEnumConverter<LibrarySourceKind>))]
public enum LibrarySourceKind
{
    /// <summary>A repository in the standard HF cache ($HF_HUB_CACHE): the manager may delete it.</summary>
    HubCache,

    /// <summary>A model in a configured extra folder (or another HF cache listed there): read-only.</summary>
    ExtraFolder,
}

[JsonConverter(typeof(JsonStringEnumConverter<ModelCompleteness>))]
public enum ModelCompleteness
{
    /// <summary>Every file of the commit's tree at its size, or (without a recorded tree) a consistent config + weights + index.</summary>
    Complete,

    /// <summary>Files are missing or wrong, and no partial download is lying around.</summary>
    Incomplete,

    /// <summary>Files are missing and <c>blobs/*.incomplete</c> exist: a download is running or was interrupted.</summary>
    PartialDownload,
}

/// <summary>One model on this machine, as the library scan sees it (no detection: that is cached per commit elsewhere).</summary>
/// <param name="RepoId"><c>org/name</c> for cache repos; the folder's relative path for extra folders.</param>
/// <param name="RootPath">The repo folder (<c>models--org--name</c>) or the model folder.</param>
/// <param name="SnapshotPath">The folder holding the model's files: <c>snapshots/&lt;commit&gt;</c> or the model folder; null when there is none.</param>
/// <param name="Revision">The commit (from <c>refs/main</c>, or the snapshot folder's name).</param>
/// <param name="RevisionSource">"refs/main", "the only snapshot", "the newest of N snapshots".</param>
/// <param name="Refs">Refs recorded in the cache (main, branch names, pr/N).</param>
/// <param name="SizeOnDisk">All of the repo's bytes: every blob once (however many snapshots link it), copied snapshot files, partial blobs.</param>
/// <param name="SnapshotBytes">Bytes of the current snapshot's files (each distinct target once).</param>
/// <param name="PartialBytes">Bytes in <c>blobs/*.incomplete</c>.</param>
/// <param name="FileCount">Files in the current snapshot.</param>
public sealed record LocalModel(
    string RepoId,
    LibrarySourceKind Kind,
    bool ReadOnly,
    string RootPath,
    string? SnapshotPath,
    string? Revision,
    string? RevisionSource,
    IReadOnlyList<string> Refs,
    int SnapshotCount,
    ModelCompleteness Completeness,
    string CompletenessReason,
    long SizeOnDisk,
    long SnapshotBytes,
    long PartialBytes,
    int FileCount,
    DateTimeOffset LastModified);

/// <summary>The result of a library scan (cached by <see cref="ModelLibrary"/>).</summary>
/// <param name="Models">Sorted by repo id.</param>
/// <param name="Problems">Folders that could not be read, extra folders that do not exist, …</param>
public sealed record LibrarySnapshot(
    IReadOnlyList<LocalModel> Models,
    DateTimeOffset ScannedAt,
    string HubCache,
    bool HubCacheExists,
    IReadOnlyList<string> Problems,
    LibraryScanStatistics Statistics);

/// <param name="ModelsExamined">Models whose folders changed and were read again.</param>
/// <param name="ModelsReused">Models taken unchanged from the previous scan.</param>
/// <param name="FromCache">True when the snapshot was returned without touching the disk (within the check interval).</param>
public sealed record LibraryScanStatistics(int ModelsExamined, int ModelsReused, bool FromCache, TimeSpan Duration);

public sealed record ModelDeletionResult(bool Deleted, string Message, long BytesFreed);
