namespace MlxManager.Core.Library;

/// <summary>Library settings (configuration section <c>Library</c>).</summary>
public sealed class LibraryOptions
{
    public const string SectionName = "MlxManager:Library";

    /// <summary>Extra read-only model folders: a model folder, a folder of model folders (one or two levels: name or org/name), or another HF cache.</summary>
    public List<string> ExtraModelFolders { get; set; } = [];

    /// <summary>Within this interval after a check, the cached scan is returned without touching the disk.</summary>
    public TimeSpan ChangeCheckInterval { get; set; } = TimeSpan.FromSeconds(2);
}
